"""Run the ``storeplane`` command as a user would: a subprocess, wide enough not to wrap."""

from __future__ import annotations

import os
import subprocess

from tests.scenarios.dev_process import STOREPLANE

READY_DELAY = 1.5  # the dev simulator's: a --wait always has something to wait for
WAIT_TIMEOUT = 45  # seconds a --wait may take before the CLI gives up
CLI_TIMEOUT = WAIT_TIMEOUT + 30  # seconds before a CLI run is killed


def cli_env() -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("STOREPLANE_API_URL", None)
    return env


def storeplane(*args: str, api_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``storeplane [stores --api-url URL] ARGS...`` to completion."""
    prefix = ["stores", "--api-url", api_url] if api_url else []
    return subprocess.run(
        [str(STOREPLANE), *prefix, *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=CLI_TIMEOUT,
        check=False,
    )
