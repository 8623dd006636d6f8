"""Serve only the API (no reconciler, no cluster) on a given database, for the API benchmark.

python bench/_api_only.py DATABASE_URL PORT
"""

from __future__ import annotations

import sys

import uvicorn

from storeplane.api.app import create_app
from storeplane.settings import Settings

if __name__ == "__main__":
    url, port = sys.argv[1], int(sys.argv[2])
    settings = Settings(database_url=url, rate_limit_per_second=1e9, rate_limit_burst=10**9)
    uvicorn.run(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
