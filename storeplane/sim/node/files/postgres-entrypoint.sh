#!/bin/sh
# The official postgres image's entrypoint contract (docker-entrypoint.sh), for Debian's
# PostgreSQL on the simulator's local node. Run by storeplane.sim.node.agent (as the
# "postgres" OS user when the simulator runs as root) with the container's env, PATH
# starting with the PostgreSQL bin folder, and:
#   SP_POD_IP       the pod's loopback address (listen_addresses)
#   SP_SOCKET_DIR   a short folder for the unix socket (socket paths are limited to 107 bytes)
# What the image does and this does too: a first argument starting with "-" means
# "postgres <args>"; anything but postgres is run as it is. For postgres: when PGDATA holds
# no cluster, initdb with POSTGRES_USER (default postgres) and POSTGRES_PASSWORD (required
# unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_INITDB_ARGS, "host all all all
# <POSTGRES_HOST_AUTH_METHOD, default scram-sha-256>" in pg_hba.conf, POSTGRES_DB (default:
# the user) created; then the server. Not done: /docker-entrypoint-initdb.d scripts.
set -eu
if [ "${1#-}" != "$1" ]; then
    set -- postgres "$@"
fi
if [ "$1" != "postgres" ]; then
    exec "$@"
fi
shift
: "${PGDATA:?PGDATA is not set}"
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != "trust" ]; then
        cat >&2 <<'MSG'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
MSG
        exit 1
    fi
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA"
    pwfile="$SP_SOCKET_DIR/.pwfile"
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the image
    initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" --no-sync \
        ${POSTGRES_INITDB_ARGS:-}
    rm -f "$pwfile"
    printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != "postgres" ]; then
        echo "CREATE DATABASE \"$POSTGRES_DB\"" | postgres --single -D "$PGDATA" postgres >/dev/null
    fi
    echo
    echo "PostgreSQL init process complete; ready for start up."
    echo
fi
exec postgres -c listen_addresses="$SP_POD_IP" -c unix_socket_directories="$SP_SOCKET_DIR" "$@"
