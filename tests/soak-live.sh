#!/bin/sh
# make soak-live [SOAK_SECONDS=N]: tests/soak_live.py against `jitevm serve
# --follow` in front of an anvil on loopback (npm @foundry-rs/anvil, under
# build/anvil) holding the token of tests/fork-e2e.sh: transfers mined all
# along, reorgs, clients at latest, the two compared at the same head.
# Usage: sh tests/soak-live.sh [path/to/jitevm] [SECONDS]
# Environment (for chasing a failure): SOAK_SERVE_ARGS (more serve
# arguments, e.g. "--drift-check 1"; later ones win), SOAK_LOG_LEVEL
# (default warn), SOAK_KEEP_LOG=FILE (the server's whole log kept there on
# failure).
JITEVM=${1:-build/jitevm}
SECONDS_=${2:-60}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=soak-live
set -e
. "$(dirname "$0")/e2e-lib.sh"
install_anvil
e2e_tmp soak-live

UPORT=$(free_port 31)
"$ANVIL" --port "$UPORT" --hardfork prague --silent > "$TMP/upstream.log" 2>&1 & APID=$!
UURL=http://127.0.0.1:$UPORT/
i=0
until curl -s -o /dev/null "$UURL"; do i=$((i + 1)); [ $i -gt 600 ] && { echo "soak-live: anvil did not start in 30 s"; exit 1; }; sleep 0.05; done
FROM=0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266
# The token of tests/fork-e2e.sh: balanceOf, transfer, totalSupply; 10^24 to the deployer.
h=$(post "$UURL" "$(req eth_sendTransaction "[{\"from\":\"$FROM\",\"gas\":\"0x100000\",\"data\":\"0x69d3c21bcecceda10000008060015533600052600060205260406000205560928060296000396000f360003560e01c806370a082311461002b578063a9059cbb1461005157806318160ddd1461004557600080fd5b600435600052600060205260406000205460005260206000f35b60015460005260206000f35b336000526000602052604060002080546024358082101561007157600080fd5b80820383556004356000526040600020805482019055600160005260206000f3\"}]")" | result)
TOKEN=$(post "$UURL" "$(req eth_getTransactionReceipt "[\"$h\"]")" | sed -n 's/.*"contractAddress":"\(0x[0-9a-f]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "soak-live: deploying the token failed"; exit 1; }
prague_genesis "$TMP/genesis.json"
"$JITEVM" init --db "$TMP/live.db" --fork-url "$UURL" --chain "$TMP/genesis.json" > "$TMP/init.log" 2>&1 || { cat "$TMP/init.log"; exit 1; }
# Polled every 100 ms (a block every 50-250 ms comes), the drift check every 8 blocks.
"$JITEVM" serve --db "$TMP/live.db" --listen 127.0.0.1:0 --follow --follow-interval 100ms --drift-check 8 \
    --health-max-lag 0 --log-level ${SOAK_LOG_LEVEL:-warn} ${SOAK_SERVE_ARGS:-} > "$TMP/server.log" 2>&1 &
SERVER_PID=$!
wait_for_server "$TMP/server.log"
python3 "$HERE/soak_live.py" "$SERVED_URL" "$UURL" "$SERVER_PID" "$SECONDS_" "$TOKEN" "$FROM" 8 ||
    { echo "soak-live: the server's log (last lines):"; tail -20 "$TMP/server.log"; [ -z "$SOAK_KEEP_LOG" ] || cp "$TMP/server.log" "$SOAK_KEEP_LOG"; exit 1; }
