#!/usr/bin/env bash
# Install everything, then run the whole test suite: lint, types, layer contracts, pytest
# (SQLite and PostgreSQL, the simulator over HTTP, real helm), the dashboard's Vitest tests and
# its Playwright journeys in Debian's Chromium against a real `storeplane dev`.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO_ROOT}"
scripts/setup.sh --test
export PATH="${REPO_ROOT}/.tools/bin:${PATH}"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
step "mypy"
.venv/bin/mypy
step "import contracts"
.venv/bin/lint-imports

step "PostgreSQL for the integration tests"
# A free port unless one is set: a server another run left on the default port must not fail
# this run (CI once failed in 28 s on exactly that). Exported, so `stop` below finds the same one.
STOREPLANE_PG_TEST_PORT="${STOREPLANE_PG_TEST_PORT:-$(scripts/postgres-test.sh free-port)}"
export STOREPLANE_PG_TEST_PORT
STOREPLANE_TEST_POSTGRES_URL="$(scripts/postgres-test.sh start)"
export STOREPLANE_TEST_POSTGRES_URL
trap 'scripts/postgres-test.sh stop || true' EXIT

step "pytest"
# pytest runs in STOREPLANE_TEST_WORKERS pytest-xdist workers (default 2, one per core of the
# 2-core CI machine; 0 runs it in this process): each module goes to one worker (its module
# fixtures are made once), the real-Medusa journeys to one worker together, first
# (tests/conftest.py). Most tests wait on processes and polls, so two workers took a clean-clone
# run's pytest from 24 to 15 minutes, green.
set +e
.venv/bin/pytest -n "${STOREPLANE_TEST_WORKERS:-2}" --dist loadscope --no-loadscope-reorder \
    --durations=25 "$@"
status=$?
set -e
if [[ ${status} -eq 5 ]]; then
    echo "pytest collected no tests: that is a failure here" >&2
    exit 1
fi
[[ ${status} -eq 0 ]] || exit "${status}"

step "dashboard: vitest"
(cd dashboard && npm test --silent)
step "dashboard: browser journeys (Playwright + Chromium against storeplane dev)"
(cd dashboard && npm run e2e --silent)
