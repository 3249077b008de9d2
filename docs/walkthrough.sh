#!/usr/bin/env bash
# Checks the README's walkthrough against a live server (docs/walkthrough_check.py does the comparing):
#   1. on a fresh data folder;
#   2. again, on the same server (a used data folder, sessions of the first run already logged out);
#   3. after a restart of the server on that used data folder.
# Uses the built server (`swift build --product openicws` first), or $OPENICWS_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${OPENICWS_BIN:-$(swift build --show-bin-path)/openicws}
[ -x "$bin" ] || { echo "walkthrough: no server at $bin (run: swift build --product openicws)" >&2; exit 2; }
work=$(mktemp -d)
pid=

stop() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; pid=; fi
}
trap 'stop; rm -rf "$work"' EXIT

# Starts the server on a free loopback port with the data folder $work/data; sets $url.
start() {
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$bin" serve --port "$port" --data "$work/data" --admin-token demo >>"$work/server.log" 2>&1 &
    pid=$!
    url=http://127.0.0.1:$port
    for _ in $(seq 1 150); do
        curl -sf "$url/health" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    echo "walkthrough: the server did not start; its log:" >&2
    cat "$work/server.log" >&2
    exit 1
}

run() {
    echo "== walkthrough, $1"
    if ! python3 docs/walkthrough_check.py --url "$url"; then
        echo "walkthrough: failed ($1); the server's log:" >&2
        tail -50 "$work/server.log" >&2
        exit 1
    fi
}

start
run "fresh data folder"
run "same server again (used data folder)"
stop
start
run "after a restart on the used data folder"
