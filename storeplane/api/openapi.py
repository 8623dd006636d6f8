"""Print the API's OpenAPI document as JSON, without starting a server or opening a database.

    python -m storeplane.api.openapi > openapi.json

The dashboard generates its typed client from this output.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from storeplane.settings import Settings


def openapi_document() -> dict[str, Any]:
    from storeplane.api.app import create_app

    # An in-memory SQLite URL: nothing is created on disk and nothing connects.
    app = create_app(Settings(database_url="sqlite://"))
    return app.openapi()


def main() -> None:
    json.dump(openapi_document(), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
