#!/bin/sh
# make soak [SOAK_SECONDS=N]: tests/soak.py against the real server on a free
# loopback port (the contracts of hardening-e2e.sh: a loop and an endless one).
# Usage: sh tests/soak.sh path/to/jitevm SECONDS
JITEVM=${1:-build/jitevm}
SECONDS_=${2:-60}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/jitevm-soak.XXXXXX")
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
cat > "$TMP/genesis.json" << 'JSON'
{
  "config": {"chainId": 1337, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
             "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0,
             "berlinBlock": 0, "londonBlock": 0, "mergeNetsplitBlock": 0, "terminalTotalDifficulty": 0,
             "shanghaiTime": 0, "cancunTime": 0, "pragueTime": 0},
  "number": "0x1", "timestamp": "0x3e8", "gasLimit": "0x1c9c380", "baseFeePerGas": "0x7",
  "coinbase": "0x00000000000000000000000000000000000000c0", "difficulty": "0x0",
  "alloc": {
    "0x00000000000000000000000000000000000000aa": {"balance": "0xde0b6b3a7640000"},
    "0x000000000000000000000000000000000000c003": {"code": "0x6103e860005b5850601f02810180600052600051019060019003908160055760005260206000f3"},
    "0x000000000000000000000000000000000000c004": {"code": "0x5b600056"}
  }
}
JSON
"$JITEVM" init --db "$TMP/soak.db" --chain "$TMP/genesis.json" > "$TMP/init.log" 2>&1 || { cat "$TMP/init.log"; exit 1; }
# --call-timeout 200ms: the endless calls end by the timeout (-32000), quickly.
"$JITEVM" serve --db "$TMP/soak.db" --listen 127.0.0.1:0 --call-timeout 200ms --gas-cap 0 --log-level error > "$TMP/server.log" 2>&1 &
SERVER_PID=$!
i=0
while ! grep -q 'serving JSON-RPC on' "$TMP/server.log" 2> /dev/null; do
    i=$((i + 1))
    [ $i -gt 100 ] && { cat "$TMP/server.log"; exit 1; }
    sleep 0.05
done
PORT=$(sed -n 's/.*serving JSON-RPC on http:[^ ]*:\([0-9]*\).*/\1/p' "$TMP/server.log" | head -1)
python3 "$HERE/soak.py" 127.0.0.1 "$PORT" "$SERVER_PID" "$SECONDS_" 16
