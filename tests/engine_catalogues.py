"""Engine catalogues for tests: the shipped one's Medusa versions A and B, plus versions made
for a test (one whose migration Job fails, for instance), written to a file that a test passes
as ``Settings(engine_catalogue=...)`` / ``STOREPLANE_ENGINE_CATALOGUE`` or
``ReconcileContext(catalogue=load_catalogue(path))``.

    A = "2.20.1" (upgrades to B), B = "2.21.2" (the default)
    write_catalogue(tmp_path / "catalogue.yaml", extra=(failing_version(),))
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from storeplane.engines.catalogue import SHIPPED_CATALOGUE

A = "2.20.1"
B = "2.21.2"
FAILING = "2.21.3-failing"
# The image tag of FAILING: no build has it; a test's runtime table gives it a migration
# command that exits 1 (tests/reconciler/test_upgrade_failure.py).
FAILING_TAG = "2.21.3-failing"


def failing_version(
    version: str = FAILING, *, upgrades_from: tuple[str, ...] = (A, B)
) -> dict[str, Any]:
    """A Medusa version whose image is ``FAILING_TAG`` and whose migration Job gives up after
    its first failed pod (backoffLimit 0, so a test does not wait for the Job's back-off)."""
    return {
        "version": version,
        "chart_version": "0.1.0",
        "images": {"medusa": FAILING_TAG},
        "upgrades_from": list(upgrades_from),
        "schema_migrations": True,
        "values": {"migrations": {"backoffLimit": 0}},
    }


def write_catalogue(path: Path, *, extra: tuple[dict[str, Any], ...] = ()) -> Path:
    """The shipped catalogue with ``extra`` Medusa versions added, written to ``path``."""
    raw = yaml.safe_load(SHIPPED_CATALOGUE.read_text())
    raw["engines"]["medusa"]["versions"].extend(extra)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def failing_runtime(folder: Path, fixed_marker: Path | None = None) -> Path:
    """A runtime table (for ``SimulatorConfig(runtimes_file=...)``, ``storeplane sim --runtimes``
    or ``storeplane dev --runtimes``) in which the FAILING image's ``medusa`` is a real shell
    script: ``medusa db:migrate`` prints a migration error and exits 1, unless ``fixed_marker``
    exists (touch it to "fix" the version, then retry the store); ``medusa start`` serves
    ``/health`` -> ``OK`` on the pod's address (python3's http.server, so a fixed upgrade
    becomes Ready), any other ``medusa`` command succeeds. Every other image stays simulated (the table names no other), so a store
    at A or B is simulated as in the default simulator.
    """
    root = folder / "failing-medusa"
    bin_dir = root / "node_modules" / ".bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    marker = str(fixed_marker) if fixed_marker is not None else ""
    script = bin_dir / "medusa"
    serve = (
        "import http.server, os\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        '        self.send_response(200); self.end_headers(); self.wfile.write(b"OK")\n'
        'http.server.HTTPServer((os.environ["HOST"], int(os.environ["PORT"])), H).serve_forever()\n'
    )
    script.write_text(
        "#!/bin/sh\n"
        f"SERVE='{serve}'\n"
        "# A stand-in for Medusa's CLI whose migrations fail (tests/engine_catalogues.py).\n"
        'if [ "$1" = "db:migrate" ]; then\n'
        f'  if [ -n "{marker}" ] && [ -e "{marker}" ]; then echo "MIGRATIONS: all applied"; exit 0; fi\n'
        '  echo "Running migrations..."\n'
        '  echo "error: migration Migration20261201 failed: column \\"total\\" of relation \\"order\\" '
        'already exists" >&2\n'
        "  exit 1\n"
        "fi\n"
        'if [ "$1" = "start" ]; then\n'
        '  exec python3 -c "$SERVE"\n'
        "fi\n"
        "exit 0\n"
    )
    script.chmod(0o755)
    table = folder / "failing-runtimes.json"
    table.write_text(
        json.dumps(
            {
                "runtimes": [
                    {
                        "image": f"ghcr.io/storeplane/medusa-store:{FAILING_TAG}",
                        "about": "a Medusa image whose db:migrate exits 1 (a test's)",
                        "root": str(root),
                        "rootPath": "/app",
                        "workingDir": "/app",
                        "command": ["/app/node_modules/.bin/medusa", "start"],
                        "bindEnv": {"HOST": "{pod_ip}"},
                    }
                ]
            }
        )
    )
    return table
