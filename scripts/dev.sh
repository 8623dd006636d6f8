#!/usr/bin/env bash
# Install everything, then run storeplane locally: SQLite + the built-in Kubernetes simulator +
# API + reconciler + dashboard, at the printed URL. Extra arguments go to `storeplane dev`
# (for example --port 9090 or --data-dir /tmp/sp).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO_ROOT}"
scripts/setup.sh
export PATH="${REPO_ROOT}/.tools/bin:${PATH}"
exec .venv/bin/storeplane dev "$@"
