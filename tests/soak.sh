#!/bin/sh
# make soak [SOAK_SECONDS=N]: tests/soak.py against the real server on a free
# loopback port, on tests/data/hardening-genesis.json (a sender, a loop and an endless loop).
# Usage: sh tests/soak.sh path/to/jitevm SECONDS
JITEVM=${1:-build/jitevm}
SECONDS_=${2:-60}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=soak
. "$(dirname "$0")/e2e-lib.sh"
e2e_tmp soak
"$JITEVM" init --db "$TMP/soak.db" --chain "$HERE/data/hardening-genesis.json" > "$TMP/init.log" 2>&1 || { cat "$TMP/init.log"; exit 1; }
# --call-timeout 200ms: the endless calls end by the timeout (-32000), quickly.
"$JITEVM" serve --db "$TMP/soak.db" --listen 127.0.0.1:0 --call-timeout 200ms --gas-cap 0 --log-level error > "$TMP/server.log" 2>&1 &
SERVER_PID=$!
wait_for_server "$TMP/server.log"
PORT=$SERVED_PORT
python3 "$HERE/soak.py" 127.0.0.1 "$PORT" "$SERVER_PID" "$SECONDS_" 16
