#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, listening only on 127.0.0.1 with trust authentication.
#
#   eval "$(bash scripts/postgres-test-cluster.sh start)"   # prints the export lines for the tests
#   swift test
#   bash scripts/postgres-test-cluster.sh stop             # stops it and deletes its directory
#
# Run as root, the server runs as the `postgres` user; otherwise as the current user.
# Env: OPENICWS_TEST_PG_PORT (first port to try, default 55432).
set -euo pipefail

state_file="${TMPDIR:-/tmp}/openicws-pg-test-cluster.$(id -u).env"

log() { echo "postgres-test-cluster: $*" >&2; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

find_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
        log "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (install the Debian package postgresql)"
        exit 1
    fi
    echo "$dir"
}

port_in_use() { (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
    local bin root data port
    bin=$(find_bin)
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    root=$(mktemp -d "${TMPDIR:-/tmp}/openicws-pg.XXXXXX")
    chmod 755 "$root"
    data="$root/data"
    if [ "$(id -u)" = 0 ]; then chown postgres "$root"; fi
    as_owner "$bin/initdb" --pgdata="$data" --username=postgres --auth=trust --no-sync --encoding=UTF8 --locale=C.UTF-8 >&2 \
        || as_owner "$bin/initdb" --pgdata="$data" --username=postgres --auth=trust --no-sync --encoding=UTF8 --locale=C >&2
    cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$root'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    # A port can look free and still be taken when the server binds (a client's connection may hold it as its
    # local port): try the next one then. The last `port =` line of the configuration wins, so a restart
    # of this cluster (the restart tests) keeps the port.
    port="${OPENICWS_TEST_PG_PORT:-55432}"
    while :; do
        while port_in_use "$port"; do port=$((port + 1)); done
        if [ "$port" -gt 55632 ]; then log "no free port"; exit 1; fi
        echo "port = $port" >> "$data/postgresql.conf"
        if as_owner "$bin/pg_ctl" --pgdata="$data" --log="$root/server.log" --wait start >&2; then break; fi
        log "could not start on port $port; trying the next one"
        port=$((port + 1))
    done
    as_owner "$bin/createdb" --host=127.0.0.1 --port="$port" --username=postgres openicws_test
    cat > "$state_file" <<ENV
export OPENICWS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/openicws_test
export OPENICWS_TEST_PG_BIN=$bin
export OPENICWS_TEST_PG_DATA=$data
ENV
    log "started on 127.0.0.1:$port (data $data, log $root/server.log)"
    cat "$state_file"
}

stop() {
    local bin data
    data="${OPENICWS_TEST_PG_DATA:-}"
    bin="${OPENICWS_TEST_PG_BIN:-}"
    if [ -z "$data" ] && [ -f "$state_file" ]; then
        data=$(sed -n 's/^export OPENICWS_TEST_PG_DATA=//p' "$state_file")
        bin=$(sed -n 's/^export OPENICWS_TEST_PG_BIN=//p' "$state_file")
    fi
    if [ -z "$data" ]; then log "no cluster to stop"; return 0; fi
    [ -n "$bin" ] || bin=$(find_bin)
    if [ -f "$data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" --pgdata="$data" --mode=fast --wait stop >&2 || log "pg_ctl stop failed"
    fi
    case "$data" in
        */openicws-pg.*/data) rm -rf "$(dirname "$data")" ;;
        *) log "not deleting $data (not made by this script)" ;;
    esac
    rm -f "$state_file"
    log "stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
