#!/usr/bin/env bash
# Run the Medusa store app of images/medusa as a local process: no container, no cluster.
#
#   scripts/medusa-local.sh install [VERSION]   npm ci + medusa build into the version's work dir
#                                     (both cached); no VERSION: every version of
#                                     images/medusa/versions (what `storeplane dev`, the
#                                     simulator's runtime table and the tests need)
#   scripts/medusa-local.sh up [VERSION]   install, then a fresh database, migrations, the admin
#                                     user, the seed, Redis and the server; prints KEY=VALUE lines
#   scripts/medusa-local.sh admin [VERSION] the seed Job's admin step again, on `up`'s database
#                                     (ensure-admin, then `medusa user` if there is no admin)
#   scripts/medusa-local.sh down [VERSION] stop the server and Redis started by `up` (by PID)
#   scripts/medusa-local.sh dir [VERSION]  print the version's work dir
#   VERSION defaults to the catalogue's default Medusa version (DEFAULT_VERSION below).
#
# Each version has its own locked recipe, images/medusa/versions/<version>/package.json and
# package-lock.json, built with the shared sources (medusa-config.ts, tsconfig.json, src/)
# into its own work dir: the default version's is the work dir below (unchanged since there
# was one version), every other version's is a sibling, "<work dir>-<version>".
#
# It does what the image and the medusa-store chart do, in the same order and with the same
# commands: `npm ci` from the committed package-lock.json, `medusa build` (admin UI included,
# as in the Dockerfile), then from the build output .medusa/server with NODE_ENV=production:
# `medusa db:migrate`, the ensure-admin script (then `medusa user` if it finds no admin), `medusa exec ./src/scripts/seed.js`
# and `medusa start`. So a green run proves the recipe installs, builds, migrates, seeds and
# serves. tests/e2e/medusa/test_medusa_order.py calls it and places a guest order.
#
# Cached: the install (about 2 minutes and 750 MB the first time) is skipped while
# package.json and package-lock.json are unchanged, the build while the recipe is unchanged.
# The work dir is outside the git tree.
#
# Environment:
#   STOREPLANE_MEDUSA_DIR           the default version's work dir (default
#                                   ${XDG_CACHE_HOME:-~/.cache}/storeplane/medusa-app); another
#                                   version's is "${STOREPLANE_MEDUSA_DIR}-<version>"
#   STOREPLANE_TEST_POSTGRES_URL    the test suite's PostgreSQL (scripts/postgres-test.sh start);
#                                   `up` creates a separate database on that server
#   STOREPLANE_MEDUSA_DB            that database's name (default storeplane_medusa; dropped
#                                   and created again by every `up`)
#   STOREPLANE_MEDUSA_ADMIN_EMAIL / _PASSWORD   the admin login (default admin@storeplane.test
#                                   and a random password, printed by `up`)
# Needs: node 20.19+ and npm (Debian's nodejs), psql, redis-server (installed with apt-get when
# missing and run as root). Reaches only the npm registry.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RECIPE="${REPO_ROOT}/images/medusa"
# The catalogue's default Medusa version (charts/catalogue.yaml; tests/images checks they agree).
DEFAULT_VERSION="2.21.2"
BASE_WORK="${STOREPLANE_MEDUSA_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/storeplane/medusa-app}"

# Point WORK, APP, RUN, SERVER, MEDUSA and LOCK_DIR (the version's locked recipe) at VERSION.
use_version() {
    VERSION="$1"
    LOCK_DIR="${RECIPE}/versions/${VERSION}"
    [[ -f "${LOCK_DIR}/package.json" && -f "${LOCK_DIR}/package-lock.json" ]] \
        || die "no recipe for Medusa ${VERSION}: images/medusa/versions has $(versions | tr '\n' ' ')"
    if [[ "${VERSION}" == "${DEFAULT_VERSION}" ]]; then
        WORK="${BASE_WORK}"
    else
        WORK="${BASE_WORK}-${VERSION}"
    fi
    APP="${WORK}/app"
    RUN="${WORK}/run"
    SERVER="${APP}/.medusa/server"
    MEDUSA="${APP}/node_modules/.bin/medusa"
}

versions() { (cd "${RECIPE}/versions" && ls -1d */ | tr -d / | LC_ALL=C sort); }
DB_NAME="${STOREPLANE_MEDUSA_DB:-storeplane_medusa}"
ADMIN_EMAIL="${STOREPLANE_MEDUSA_ADMIN_EMAIL:-admin@storeplane.test}"

log() { printf 'medusa-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s; }
took() { echo "$(($(now) - $1))s"; }

# Telemetry off for every medusa command (no internet here, and none wanted in tests).
export MEDUSA_DISABLE_TELEMETRY=true
export NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

check_node() {
    command -v node >/dev/null && command -v npm >/dev/null \
        || die "node and npm are required (apt-get install nodejs npm)"
    node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
        || die "node $(node -v) is too old: Medusa 2.21 needs 20.19 or newer"
}

sha() { cat "$@" | sha256sum | cut -d' ' -f1; }

# "sha256  path" of every file the build depends on, sorted by path: the version's lock files
# and the shared sources (the same lines, so the same stamp, as when images/medusa held one
# version's package.json itself: an existing build stays valid).
recipe_sums() {
    {
        (cd "${LOCK_DIR}" && sha256sum package.json package-lock.json)
        (cd "${RECIPE}" && find tsconfig.json medusa-config.ts src -type f -print0 | xargs -0 sha256sum)
    } | LC_ALL=C sort -k2
}

# A stamp is written to a new file and renamed over the old one: a copy of the cache made with
# hard links (cp -al) then gets its own stamp instead of rewriting the original's, which would
# mark the original's older build as current.
write_stamp() {
    echo "$2" >"$1.tmp.$$"
    mv -f "$1.tmp.$$" "$1"
}

install() {
    check_node
    mkdir -p "${APP}" "${RUN}"
    exec 9>"${WORK}/.lock"
    flock 9
    # The recipe's sources, fresh on every run (cheap); node_modules and the build stay.
    rm -rf "${APP}/src"
    (cd "${RECIPE}" && cp -R tsconfig.json medusa-config.ts src "${APP}/")
    cp "${LOCK_DIR}/package.json" "${LOCK_DIR}/package-lock.json" "${APP}/"

    local deps_stamp="${APP}/node_modules/.storeplane-deps-sha256"
    local deps_want
    deps_want="$(sha "${LOCK_DIR}/package.json" "${LOCK_DIR}/package-lock.json")"
    if [[ -f "${deps_stamp}" && "$(cat "${deps_stamp}")" == "${deps_want}" ]]; then
        log "dependencies up to date in ${APP}/node_modules (package-lock.json unchanged)"
    else
        local t
        t="$(now)"
        log "installing Medusa ${VERSION}'s dependencies with npm ci into ${APP} (about 2 minutes and 750 MB the first time) ..."
        rm -rf "${APP}/node_modules"
        (cd "${APP}" && npm ci --no-audit --no-fund --loglevel=error) >&2 \
            || die "npm ci failed in ${APP}: is the npm registry reachable, and is images/medusa/versions/${VERSION}/package-lock.json in sync with its package.json?"
        write_stamp "${deps_stamp}" "${deps_want}"
        log "installed $(du -sh "${APP}/node_modules" | cut -f1) in $(took "${t}")"
    fi

    local build_stamp="${APP}/.medusa/.storeplane-build-sha256"
    local build_want
    build_want="$(recipe_sums | sha256sum | cut -d' ' -f1)"
    if [[ -f "${build_stamp}" && "$(cat "${build_stamp}")" == "${build_want}" && -f "${SERVER}/medusa-config.js" ]]; then
        log "build up to date in ${SERVER} (recipe unchanged)"
    else
        local t
        t="$(now)"
        log "medusa build of ${VERSION} (backend and admin UI, as in the Dockerfile) ..."
        (cd "${APP}" && unset NODE_ENV && "${MEDUSA}" build) >"${RUN}/build.log" 2>&1 \
            || { tail -n 40 "${RUN}/build.log" >&2; die "medusa build failed (full log: ${RUN}/build.log)"; }
        [[ -f "${SERVER}/src/scripts/seed.js" ]] || die "the build has no src/scripts/seed.js: ${RUN}/build.log"
        write_stamp "${build_stamp}" "${build_want}"
        log "built in $(took "${t}")"
    fi
    flock -u 9
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The body of a GET, or nothing (python3 rather than curl, which a fresh Debian may lack).
health() {
    python3 - "$1" <<'PY' 2>/dev/null || true
import sys
import urllib.request

with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
    print(response.read().decode())
PY
}

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# postgresql+psycopg://user@host:port/db -> postgres://user@host:port/<name> (libpq form).
database_url() {
    python3 - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit, urlunsplit

url, name = sys.argv[1], sys.argv[2]
parts = urlsplit(url)
print(urlunsplit(("postgres", parts.netloc, "/" + name, "", "")))
PY
}

ensure_redis() {
    command -v redis-server >/dev/null && return 0
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
        log "installing Debian's redis-server (Medusa's event bus, workflow engine and locks)"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
        return 0
    fi
    die "redis-server is required: apt-get install redis-server"
}

stop_pid_file() {
    local file="$1" what="$2" pid
    [[ -f "${file}" ]] || return 0
    pid="$(cat "${file}")"
    rm -f "${file}"
    kill -0 "${pid}" 2>/dev/null || return 0
    log "stopping ${what} (pid ${pid})"
    # Started with setsid: the PID leads its own process group, so its children stop too.
    kill -TERM -- "-${pid}" 2>/dev/null || kill -TERM "${pid}" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "${pid}" 2>/dev/null || return 0
        sleep 0.2
    done
    log "${what} (pid ${pid}) did not stop in 10s: killing it"
    kill -KILL -- "-${pid}" 2>/dev/null || kill -KILL "${pid}" 2>/dev/null || true
}

down() {
    stop_pid_file "${RUN}/server.pid" "the Medusa server"
    stop_pid_file "${RUN}/redis.pid" "redis-server"
}

# Run a medusa command the way the chart's Jobs do: from the build output, production mode.
medusa_job() {
    local name="$1"
    shift
    local t
    t="$(now)"
    if ! (cd "${SERVER}" && "${MEDUSA}" "$@") >"${RUN}/${name}.log" 2>&1; then
        tail -n 30 "${RUN}/${name}.log" >&2
        die "medusa $* failed (full log: ${RUN}/${name}.log)"
    fi
    log "${name}: done in $(took "${t}")"
}

# Exactly the seed Job's admin logic: ensure-admin exits 3 when the admin does not exist yet
# (then `medusa user` makes it), 0 when it can log in (a half-made one repaired).
admin_step() {
    local status=0
    (cd "${SERVER}" && "${MEDUSA}" exec ./src/scripts/ensure-admin.js) >"${RUN}/ensure-admin.log" 2>&1 || status=$?
    if [[ ${status} -eq 3 ]]; then
        medusa_job user user -e "${ADMIN_EMAIL}" -p "${ADMIN_PASSWORD}"
    elif [[ ${status} -ne 0 ]]; then
        tail -n 30 "${RUN}/ensure-admin.log" >&2
        die "ensure-admin failed (exit ${status}): ${RUN}/ensure-admin.log"
    else
        grep -E "can log in|registered|linked" "${RUN}/ensure-admin.log" | sed 's/^/ensure-admin: /' >&2 || true
    fi
}

# Run the seed Job's admin step again against the database of the last `up`.
admin() {
    [[ -f "${RUN}/job.env" ]] || die "no ${RUN}/job.env: run \`$0 up ${VERSION}\` first"
    # shellcheck disable=SC1091
    source "${RUN}/job.env"
    admin_step
}

up() {
    local base_url="${STOREPLANE_TEST_POSTGRES_URL:-}"
    [[ -n "${base_url}" ]] \
        || die "STOREPLANE_TEST_POSTGRES_URL is not set: export STOREPLANE_TEST_POSTGRES_URL=\"\$(scripts/postgres-test.sh start)\""
    command -v psql >/dev/null || die "psql is required (apt-get install postgresql-client)"
    ensure_redis
    install
    down # a previous run's leftovers, if any

    local started
    started="$(now)"
    local admin_url db_url
    admin_url="$(database_url "${base_url}" postgres)"
    db_url="$(database_url "${base_url}" "${DB_NAME}")"
    log "fresh database ${DB_NAME} on $(database_url "${base_url}" "" | sed 's#/$##')"
    psql "${admin_url}" -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)" >&2
    psql "${admin_url}" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE ${DB_NAME}" >&2

    local redis_port port
    redis_port="$(free_port)"
    log "redis-server on 127.0.0.1:${redis_port} (no persistence)"
    setsid redis-server --bind 127.0.0.1 --port "${redis_port}" --save "" --appendonly no \
        --dir "${RUN}" --logfile "${RUN}/redis.log" </dev/null >/dev/null 2>&1 &
    echo $! >"${RUN}/redis.pid"

    local password="${STOREPLANE_MEDUSA_ADMIN_PASSWORD:-$(random_hex 12)}"
    export NODE_ENV=production
    export DATABASE_URL="${db_url}" DATABASE_SSL=false
    export REDIS_URL="redis://127.0.0.1:${redis_port}"
    export JWT_SECRET COOKIE_SECRET
    JWT_SECRET="$(random_hex 24)"
    COOKIE_SECRET="$(random_hex 24)"
    export MEDUSA_WORKER_MODE=shared ADMIN_EMAIL="${ADMIN_EMAIL}"
    export SEED_STORE_NAME="storeplane local" SEED_CURRENCY=eur SEED_COUNTRIES=de
    for _ in $(seq 1 50); do
        redis-cli -p "${redis_port}" ping >/dev/null 2>&1 && break
        sleep 0.1
    done

    log "medusa db:migrate ..."
    medusa_job migrate db:migrate
    export ADMIN_PASSWORD="${password}"
    # What the Jobs' commands need, for `admin` below (the secrets too: owner-only file).
    (umask 077 && export -p | grep -E ' (NODE_ENV|DATABASE_URL|DATABASE_SSL|REDIS_URL|JWT_SECRET|COOKIE_SECRET|MEDUSA_WORKER_MODE|ADMIN_EMAIL|ADMIN_PASSWORD)=' >"${RUN}/job.env")
    log "admin user ${ADMIN_EMAIL} and seed ..."
    admin_step
    medusa_job seed exec ./src/scripts/seed.js

    port="$(free_port)"
    export PORT="${port}"
    export STORE_CORS="http://127.0.0.1:${port}" ADMIN_CORS="http://127.0.0.1:${port}" AUTH_CORS="http://127.0.0.1:${port}"
    export MEDUSA_BACKEND_URL="http://127.0.0.1:${port}"
    log "medusa start on 127.0.0.1:${port} from ${SERVER} (NODE_ENV=production) ..."
    # No subshell: $! must be the server's own PID (setsid makes it lead its process group).
    cd "${SERVER}"
    setsid "${MEDUSA}" start -H 127.0.0.1 -p "${port}" </dev/null >"${RUN}/server.log" 2>&1 &
    local pid=$! t
    echo "${pid}" >"${RUN}/server.pid"
    cd "${REPO_ROOT}"
    t="$(now)"
    for _ in $(seq 1 180); do
        if [[ "$(health "http://127.0.0.1:${port}/health")" == "OK" ]]; then
            log "healthy (GET /health -> OK) $(took "${t}") after start; everything took $(took "${started}")"
            echo "MEDUSA_URL=http://127.0.0.1:${port}"
            echo "MEDUSA_ADMIN_EMAIL=${ADMIN_EMAIL}"
            echo "MEDUSA_ADMIN_PASSWORD=${password}"
            echo "MEDUSA_PID=${pid}"
            echo "MEDUSA_LOG=${RUN}/server.log"
            return 0
        fi
        if ! kill -0 "${pid}" 2>/dev/null; then
            tail -n 40 "${RUN}/server.log" >&2
            die "the Medusa server exited during start-up (log: ${RUN}/server.log)"
        fi
        sleep 0.5
    done
    tail -n 40 "${RUN}/server.log" >&2
    down
    die "the Medusa server was not healthy within 90s (log: ${RUN}/server.log)"
}

install_all() {
    local version
    for version in $(versions); do
        use_version "${version}"
        install
    done
}

case "${1:-}" in
    install)
        if [[ -n "${2:-}" ]]; then
            use_version "$2"
            install
        else
            install_all
        fi
        ;;
    up) use_version "${2:-${DEFAULT_VERSION}}" && up ;;
    down) use_version "${2:-${DEFAULT_VERSION}}" && down ;;
    admin) use_version "${2:-${DEFAULT_VERSION}}" && admin ;;
    dir) use_version "${2:-${DEFAULT_VERSION}}" && echo "${WORK}" ;;
    *) die "usage: $0 install [VERSION] | up [VERSION] | admin [VERSION] | down [VERSION] | dir [VERSION]" ;;
esac
