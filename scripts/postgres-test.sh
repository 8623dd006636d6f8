#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite, listening on 127.0.0.1 only.
#
#   scripts/postgres-test.sh start   start it (idempotent) and print its SQLAlchemy URL
#   scripts/postgres-test.sh url     print the URL
#   scripts/postgres-test.sh stop    stop it (the data directory is kept for a faster restart)
#   scripts/postgres-test.sh crash   stop it the abrupt way (pg_ctl stop -m immediate: clients
#                                    are cut off, no checkpoint), as in an outage; `start` again
#   scripts/postgres-test.sh clean   stop it and delete the data directory
#   scripts/postgres-test.sh free-port   print the first port from STOREPLANE_PG_TEST_PORT (55432)
#                                    up that nothing listens on (scripts/test.sh uses it, so a
#                                    server left on 55432 by another run does not fail this one)
#
# Uses Debian's postgresql binaries (/usr/lib/postgresql/<version>/bin). initdb refuses to run
# as root, so as root the server runs as the `postgres` OS user that the Debian package creates.
# Authentication is `trust` on 127.0.0.1: this server is for tests only, and fsync is off.
# Environment: STOREPLANE_PG_TEST_PORT (55432), STOREPLANE_PG_TEST_DIR (/tmp/storeplane-pg-test-<port>),
# STOREPLANE_PG_TEST_DURABLE (0; 1: commits survive `crash`).
# The tests give each test its own schema inside the database, so one server serves a whole run.
set -euo pipefail

PORT="${STOREPLANE_PG_TEST_PORT:-55432}"
DATA_DIR="${STOREPLANE_PG_TEST_DIR:-/tmp/storeplane-pg-test-${PORT}}"
DB_USER="storeplane"
DB_NAME="storeplane_test"
URL="postgresql+psycopg://${DB_USER}@127.0.0.1:${PORT}/${DB_NAME}"

# Fast and not crash-safe by default. STOREPLANE_PG_TEST_DURABLE=1 keeps every acknowledged
# commit across a server crash (`crash` below; the OS stays up, so fsync may stay off): with
# synchronous_commit=off an immediate stop loses the last commits it had acknowledged.
if [[ "${STOREPLANE_PG_TEST_DURABLE:-0}" == "1" ]]; then
    DURABILITY="-c fsync=off -c synchronous_commit=on"
else
    DURABILITY="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi

# True when something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp, no extra tool).
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local port="${PORT}"
    while port_taken "${port}"; do
        port=$((port + 1))
        (( port < PORT + 100 )) || { echo "postgres-test: error: ports ${PORT}-${port} are all taken" >&2; exit 1; }
    done
    echo "${port}"
}

log() { printf 'postgres-test: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

find_bin_dir() {
    if command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/initdb" ]]; then
        pg_config --bindir
        return
    fi
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    [[ -n "${dir}" && -x "${dir}/initdb" ]] \
        || die "no PostgreSQL server binaries found; install them: apt-get install postgresql"
    echo "${dir}"
}

BIN="$(find_bin_dir)"

# Run a server binary as a user initdb accepts.
as_db_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        id postgres >/dev/null 2>&1 \
            || die "running as root needs the 'postgres' OS user (apt-get install postgresql)"
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

is_running() { as_db_owner "${BIN}/pg_ctl" status -D "${DATA_DIR}" >/dev/null 2>&1; }

psql_admin() {
    "${BIN}/psql" -h 127.0.0.1 -p "${PORT}" -U "${DB_USER}" -d postgres -v ON_ERROR_STOP=1 -tAq "$@"
}

start() {
    if ! is_running; then
        if [[ ! -f "${DATA_DIR}/PG_VERSION" ]]; then
            log "initialising ${DATA_DIR}"
            mkdir -p "${DATA_DIR}"
            chmod 700 "${DATA_DIR}"
            [[ "$(id -u)" -ne 0 ]] || chown postgres: "${DATA_DIR}"
            as_db_owner "${BIN}/initdb" -D "${DATA_DIR}" -U "${DB_USER}" --auth=trust \
                --encoding=UTF8 --no-instructions >/dev/null
        fi
        log "starting on 127.0.0.1:${PORT}"
        if ! as_db_owner "${BIN}/pg_ctl" start -D "${DATA_DIR}" -l "${DATA_DIR}/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p ${PORT} -c unix_socket_directories=${DATA_DIR} ${DURABILITY} -c max_connections=300" \
            >/dev/null; then
            tail -n 20 "${DATA_DIR}/server.log" >&2 || true
            die "PostgreSQL did not start (is port ${PORT} taken? set STOREPLANE_PG_TEST_PORT)"
        fi
    fi
    if [[ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}'")" ]]; then
        psql_admin -c "CREATE DATABASE ${DB_NAME}"
    fi
    echo "${URL}"
}

stop() {
    if is_running; then
        log "stopping"
        as_db_owner "${BIN}/pg_ctl" stop -D "${DATA_DIR}" -m fast -w >/dev/null
    fi
}

crash() {
    if is_running; then
        log "stopping immediately"
        as_db_owner "${BIN}/pg_ctl" stop -D "${DATA_DIR}" -m immediate -w >/dev/null
    fi
}

case "${1:-}" in
    start) start ;;
    crash) crash ;;
    url) echo "${URL}" ;;
    free-port) free_port ;;
    stop) stop ;;
    clean) stop; rm -rf "${DATA_DIR}" ;;
    *) die "usage: $0 start|url|stop|crash|clean|free-port" ;;
esac
