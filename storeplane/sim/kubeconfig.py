"""Write a kubeconfig that points kubectl, lightkube (or any client) at a simulator.

Called by the runner's ``serve_forever`` and by the ``storeplane sim`` CLI.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

DUMMY_TOKEN = "storeplane-sim"  # the simulator does no authentication; clients want a user


def write_kubeconfig(path: Path, server_url: str, context: str = "storeplane-sim") -> Path:
    """Write (atomically, mode 0600) a kubeconfig whose current context is ``context``,
    a cluster at ``server_url`` and a user with a dummy bearer token. Returns ``path``."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": server_url}}],
        "users": [{"name": context, "user": {"token": DUMMY_TOKEN}}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": context, "user": context, "namespace": "default"},
            }
        ],
        "current-context": context,
        "preferences": {},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kubeconfig-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            yaml.safe_dump(config, handle, sort_keys=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
