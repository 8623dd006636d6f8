"""Write a kubeconfig that points kubectl, lightkube (or any client) at a simulator.

Called by the runner's ``serve_forever`` and by the ``storeplane sim`` CLI.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

import yaml

# Without RBAC the simulator accepts any token (clients want a user); with RBAC the runner
# passes the admin token (RunningSimulator.admin_token) or a ServiceAccount's.
DUMMY_TOKEN = "storeplane-sim"


def write_kubeconfig(
    path: Path,
    server_url: str,
    context: str = "storeplane-sim",
    token: str | None = None,
    namespace: str = "default",
    ca_pem: str | None = None,
) -> Path:
    """Write (atomically, mode 0600) a kubeconfig whose current context is ``context``,
    a cluster at ``server_url`` (trusting the CA ``ca_pem`` for an https URL) and a user
    with bearer ``token`` (a dummy one when None). Returns ``path``."""
    cluster: dict[str, str] = {"server": server_url}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem.encode()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": context, "user": {"token": token or DUMMY_TOKEN}}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": context, "user": context, "namespace": namespace},
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
