#!/usr/bin/env bash
# Install everything storeplane needs on a fresh Debian machine. Idempotent: a second run
# only checks. Used by scripts/dev.sh (run the product) and scripts/test.sh (run the tests).
#
#   scripts/setup.sh           Python deps (uv, locked), helm, the dashboard build; each skipped
#                              when its inputs (uv.lock, the dashboard sources) did not change
#   scripts/setup.sh --test    also Debian's postgresql, redis-server, chromium and curl, the dashboard's
#                              test deps, and every Medusa version's build (scripts/medusa-local.sh
#                              install; cached: about 80 s per version the first time)
# Both install (as root) or ask for Debian's postgresql and redis-server: the simulator's node
# runs a store's PostgreSQL and Redis containers with them (docs/simulator.md, "The local node").
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO_ROOT}"
WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1

log() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

export UV_PYTHON_DOWNLOADS=never  # use this machine's Python 3.11+, never fetch one

apt_install() {
    # Installs Debian packages that are missing; needs root (CI runs as root).
    local missing=()
    for pkg in "$@"; do
        dpkg -s "${pkg}" >/dev/null 2>&1 || missing+=("${pkg}")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    [[ "$(id -u)" -eq 0 ]] || die "missing Debian packages: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}"
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

command -v python3 >/dev/null || die "python3 (3.11+) is required"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11+ is required (found $(python3 --version))"
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm

if ! command -v uv >/dev/null; then
    log "installing uv (the Python package manager) with pip"
    python3 -m pip install --quiet --disable-pip-version-check uv
fi
# A restart of scripts/dev.sh skips `uv sync` when .venv was synced from this very uv.lock and
# pyproject.toml (the stamp lives inside .venv, so a deleted .venv is synced again).
uv_stamp=".venv/.storeplane-uv-sha256"
uv_want="$(cat uv.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [[ ${WITH_TEST} -eq 0 && -x .venv/bin/python && -f "${uv_stamp}" && "$(cat "${uv_stamp}")" == "${uv_want}" ]]; then
    log "Python dependencies up to date (uv.lock unchanged); skipping uv sync"
else
    log "installing Python dependencies from uv.lock into .venv"
    uv sync --frozen --quiet
    echo "${uv_want}" > "${uv_stamp}"
fi

scripts/install-tools.sh

if [[ ${WITH_TEST} -eq 1 ]]; then
    # curl: the real-store journey opens stores with it, as a user would (it resolves *.localhost itself)
    apt_install postgresql redis-server chromium curl
elif [[ "$(id -u)" -eq 0 ]]; then
    apt_install postgresql redis-server
else
    for pkg in postgresql redis-server; do
        dpkg -s "${pkg}" >/dev/null 2>&1 \
            || log "note: ${pkg} is missing, so stores' ${pkg%-server} containers cannot run as local processes (sudo apt-get install -y ${pkg})"
    done
fi

# scripts/test.sh (--test) always builds, so tsc checks the client against the current API.
if [[ ${WITH_TEST} -eq 1 ]]; then
    # The real-store tests run each Medusa version of the catalogue (2.21.2 and 2.20.1).
    scripts/medusa-local.sh install
    # The S3 backup test's local S3 server, in uv's own tool environment (botocore's pins clash
    # with uv.lock's); fetched here so the test never downloads while it runs.
    log "preparing the local S3 server for the tests ($(cat scripts/moto-server.txt))"
    uv tool run --quiet --from "$(cat scripts/moto-server.txt)" moto_server --help >/dev/null
    scripts/build-dashboard.sh
else
    scripts/build-dashboard.sh --if-changed
fi
log "done"
