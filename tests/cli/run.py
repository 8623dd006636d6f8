"""Run the ``storeplane`` command as a user would: a subprocess, wide enough not to wrap."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.scenarios.dev_process import STOREPLANE

READY_DELAY = 1.5  # the dev simulator's: a --wait always has something to wait for
WAIT_TIMEOUT = 45  # seconds a --wait may take before the CLI gives up
CLI_TIMEOUT = WAIT_TIMEOUT + 30  # seconds before a CLI run is killed


def cli_env(data_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a CLI run. With ``data_dir`` (a ``storeplane dev`` data dir) the CLI
    finds the dev admin token there, as it finds ``.data/admin.token`` for a user; ``extra``
    sets more ``STOREPLANE_*`` variables (``STOREPLANE_TOKEN=...``)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    for name in ("STOREPLANE_API_URL", "STOREPLANE_TOKEN", "STOREPLANE_DATA_DIR"):
        env.pop(name, None)
    env.pop("STOREPLANE_DATABASE_URL", None)
    if data_dir is not None:
        env["STOREPLANE_DATA_DIR"] = str(data_dir)
    return {**env, **extra}


def storeplane(
    *args: str,
    api_url: str | None = None,
    data_dir: Path | None = None,
    cwd: Path | None = None,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """Run ``storeplane [stores --api-url URL] ARGS...`` to completion (in ``cwd``, where the
    CLI looks for ``.data``)."""
    prefix = ["stores", "--api-url", api_url] if api_url else []
    return subprocess.run(
        [str(STOREPLANE), *prefix, *args],
        capture_output=True,
        text=True,
        env=cli_env(data_dir, **env),
        timeout=CLI_TIMEOUT,
        check=False,
        cwd=cwd,
    )
