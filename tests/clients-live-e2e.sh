#!/bin/sh
# A dapp pointed at a live jitevm and nothing else: ethers v6 and viem, each
# as a dapp uses it (a wallet with a dev key, contracts deployed and used
# with signed transactions), talk only to `jitevm serve --follow`, whose
# upstream is anvil on loopback; every answer is compared with the same
# library's answer from anvil directly (tests/clients/live.mjs says what is
# compared and which differences are documented, and why).
# Ends with "N passed, N failed"; exit status 1 when any failed.
#
# ethers, viem, solc and anvil come from npm under build/clients, as for
# tests/clients-e2e.sh. Nothing but loopback is contacted once installed.
#
# Usage: sh tests/clients-live-e2e.sh [path/to/jitevm]
# Environment: ANVIL_VERSION (default 1.7.1).
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
NAME=clients-live-e2e
[ -x "$JITEVM" ] || { echo "$NAME: FAILED: no binary at $JITEVM"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)

command -v curl > /dev/null || { echo "$NAME: FAILED: curl is needed"; exit 1; }
command -v python3 > /dev/null || { echo "$NAME: FAILED: python3 is needed (free_port)"; exit 1; }
command -v node > /dev/null && command -v npm > /dev/null ||
    { echo "$NAME: FAILED: node and npm are needed (apt-get install nodejs npm)"; exit 1; }
. "$HERE/e2e-lib.sh"
install_clients
e2e_tmp clients-live

# ---- anvil, the upstream: Prague, automine (a block per transaction).
start_anvil
# anvil's Prague chain lacks the system contracts Prague blocks call
# (EIP-2935, 4788, 7002, 7251); mainnet and every Prague testnet have them,
# and eth_simulateV1 (viem's simulateCalls) fails on a chain without them,
# as geth's does. They are put on anvil as the dev chain holds them, in a
# block before jitevm pins one.
dev_system_codes > "$TMP/system-codes" || { echo "$NAME: FAILED: the dev chain's system contracts"; exit 1; }
[ -s "$TMP/system-codes" ] || { echo "$NAME: FAILED: no system contract in the dev chain"; exit 1; }
while read -r addr code; do
    post "$AURL" "$(req anvil_setCode "[\"$addr\",\"$code\"]")" | grep -q '"result":null' ||
        { echo "$NAME: FAILED: anvil_setCode $addr"; exit 1; }
done < "$TMP/system-codes"
post "$AURL" "$(req evm_mine '[]')" > /dev/null

# ---- jitevm: a live database pinned to anvil's head, following it (a
# drift check every 4 blocks: the run's 25 or so blocks are checked too).
prague_genesis "$TMP/genesis.json"
"$JITEVM" init --db "$TMP/live.db" --fork-url "$AURL" --chain "$TMP/genesis.json" > "$TMP/init.out" 2>&1 ||
    { cat "$TMP/init.out"; echo "$NAME: FAILED: init --fork-url"; exit 1; }
"$JITEVM" serve --db "$TMP/live.db" --listen 127.0.0.1:0 --follow --follow-interval 50ms --drift-check 4 --log-level warn > "$TMP/jitevm.log" 2>&1 &
JPID=$!
SERVER_PID=$JPID
wait_for_server "$TMP/jitevm.log"
SERVER_PID=
JURL=$SERVED_URL

node "$HERE/clients/live.mjs" "$CLIENTS_DIR" "$JURL" "$AURL" > "$TMP/live.out" 2>&1
status=$?
cat "$TMP/live.out"
[ $status -eq 0 ] && pass || fail "ethers/viem through a live jitevm compared with anvil (see above)"
if ! kill -0 "$JPID" 2> /dev/null; then
    wait "$JPID"
    fail "jitevm exited during the run (status $?)"
    JPID=
    tail -30 "$TMP/jitevm.log"
fi
grep -E '^[^ ]+ warn +rpc ' "$TMP/jitevm.log" | sed 's/^[^ ]* warn *rpc /  jitevm answered an error: /'
# The follower never fell out of step: no error, no cache drop, no drift
# in the checks it made while applying the run's blocks.
metric() { curl -s "${JURL}metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
for m in jitevm_follow_errors_total jitevm_follow_cache_drops_total jitevm_follow_drift_total; do
    v=$(metric $m)
    [ "$v" = 0 ] && pass || fail "$m after the run" 0 "${v:-no such metric}"
done
APPLIED=$(metric jitevm_follow_blocks_applied_total) CHECKS=$(metric jitevm_follow_drift_checks_total)
[ "${APPLIED:-0}" -ge 20 ] && [ "${CHECKS:-0}" -ge 5 ] && pass ||
    fail "the follower applied ${APPLIED:-no} blocks and made ${CHECKS:-no} drift checks (want 20 and 5 at least)"
echo "$NAME: the follower applied $APPLIED blocks, $CHECKS drift checks, no drift"
# Nothing went wrong in jitevm itself (the follower, the upstream client):
# its warnings other than the requests' own errors (the reverts asked for).
if grep -E '^[^ ]+ (warn|error) ' "$TMP/jitevm.log" | grep -Ev '^[^ ]+ warn +rpc ' > "$TMP/warnings"; then
    fail "jitevm logged warnings" "" "$(head -5 "$TMP/warnings")"
else
    pass
fi

echo "$NAME: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
