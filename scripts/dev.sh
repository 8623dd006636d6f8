#!/usr/bin/env bash
# Install everything, then run storeplane locally: SQLite + the built-in Kubernetes simulator +
# API + reconciler + dashboard, at the printed URL, with real Medusa stores: the simulator's
# node runs the store's server, worker, PostgreSQL and Redis as local processes, from the
# images/medusa app built once into a cache, one build per Medusa version of the engine catalogue
# (about 2 minutes per version the first time; scripts/medusa-local.sh).
# Extra arguments go to `storeplane dev` (for example --port 9090, --data-dir /tmp/sp, or
# --simulate-workloads to run nothing behind the stores and skip the Medusa build).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO_ROOT}"
scripts/setup.sh
export PATH="${REPO_ROOT}/.tools/bin:${PATH}"
if [[ " $* " != *" --simulate-workloads "* ]]; then
    echo "dev: preparing the Medusa store runtime (cached after the first time) ..." >&2
    scripts/medusa-local.sh install \
        || { echo "dev: the Medusa runtime could not be prepared (above); Medusa stores will be simulated" >&2; }
fi
exec .venv/bin/storeplane dev "$@"
