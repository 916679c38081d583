#!/bin/sh
# The cost of bench-rpc's eth_simulateV1 row in instructions (callgrind),
# which tests/rpc-cost.sh cannot count: a simulated Prague block needs the
# system contracts (EIP-2935, EIP-4788, EIP-7002, EIP-7251), which its
# database lacks. The database here is made as bench-rpc.sh makes jitevm's
# (a Prague genesis, the balanceOf token and its holder's slot, the dev
# chain's system contracts), and the request is bench-rpc's: 10 balanceOf
# calls in one block. jitevm serve runs under callgrind with
# instrumentation off; after a warm-up it is switched on for N requests
# (C kept-alive connections, tests/rpc_cost_client.py) and the server's
# instructions over them divided by N are printed, with the functions that
# cost most, inclusive and exclusive. The profile stays in OUT for
# callgrind_annotate.
#
# Usage: sh tests/simulate/sim-cost.sh [path/to/jitevm] [OUT]
# Environment: SIM_COST_N (requests, default 500), SIM_COST_C (connections,
# default 4).
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
N=${SIM_COST_N:-500}
C=${SIM_COST_C:-4}
HERE=$(cd "$(dirname "$0")/.." && pwd)
NAME=sim-cost
set -e
. "$HERE/e2e-lib.sh"
command -v valgrind > /dev/null && command -v callgrind_control > /dev/null ||
    { echo "sim-cost: valgrind is needed (apt-get install valgrind)"; exit 1; }
e2e_tmp sim-cost
OUT=${2:-$TMP}
mkdir -p "$OUT"
ADMIN=sim-cost-token-0123456789abcdef0123456789
apost() { curl -s -H 'Content-Type: application/json' -H "Authorization: Bearer $ADMIN" --data-binary "$2" "$1"; }

# ---- the database, as bench-rpc.sh makes jitevm's (natively, then served under callgrind)
TOKEN=0x000000000000000000000000000000000000c008
TOKEN_CODE=0x60003560e01c6370a0823114601357600080fd5b600435600052600060205260406000205460005260206000f3
HOLDER_WORD=000000000000000000000000000000000000000000000000000000000000beef
BALANCE=0x00000000000000000000000000000000000000000000000000000000000f4240
prague_genesis "$TMP/genesis.json"
"$JITEVM" init --db "$TMP/cost.db" --chain "$TMP/genesis.json" > /dev/null
"$JITEVM" serve --db "$TMP/cost.db" --listen 127.0.0.1:0 --admin --admin-token $ADMIN --log-level warn > "$TMP/setup.log" 2>&1 &
SERVER_PID=$!
wait_for_server "$TMP/setup.log"
SLOT=$(apost "$SERVED_URL" "$(req web3_sha3 "[\"0x${HOLDER_WORD}0000000000000000000000000000000000000000000000000000000000000000\"]")" | result)
apost "$SERVED_URL" "$(req anvil_setCode "[\"$TOKEN\",\"$TOKEN_CODE\"]")" > /dev/null
apost "$SERVED_URL" "$(req anvil_setStorageAt "[\"$TOKEN\",\"$SLOT\",\"$BALANCE\"]")" > /dev/null
dev_system_codes | while read -r a code; do
    apost "$SERVED_URL" "$(req anvil_setCode "[\"$a\",\"$code\"]")" > /dev/null
done
stop_server

# ---- the request: bench-rpc.sh's SIM_BODY
SIM_CALL="{\"to\":\"$TOKEN\",\"input\":\"0x70a08231$HOLDER_WORD\"}"
SIM_BODY=$(req eth_simulateV1 "[{\"blockStateCalls\":[{\"calls\":[$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL]}]},\"latest\"]")

valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out" \
    "$JITEVM" serve --db "$TMP/cost.db" --listen 127.0.0.1:0 --log-level warn > "$TMP/server.log" 2>&1 &
SERVER_PID=$!
wait_for_server "$TMP/server.log"
got=$(post "$SERVED_URL" "$SIM_BODY" | grep -o '"returnData":"[^"]*"' | sort -u)
[ "$got" = "\"returnData\":\"$BALANCE\"" ] || { echo "sim-cost: eth_simulateV1 answered '$got'"; exit 1; }
# Warm-up (code cache, compiled program, each thread's connection), uncounted.
python3 "$HERE/rpc_cost_client.py" 127.0.0.1 "$SERVED_PORT" 200 "$C" "$SIM_BODY"
sleep 1
callgrind_control -z "$SERVER_PID" > /dev/null 2>&1
callgrind_control -i on "$SERVER_PID" > /dev/null 2>&1
python3 "$HERE/rpc_cost_client.py" 127.0.0.1 "$SERVED_PORT" "$N" "$C" "$SIM_BODY"
callgrind_control -i off "$SERVER_PID" > /dev/null 2>&1
callgrind_control -d simulate "$SERVER_PID" > /dev/null 2>&1
sleep 1
mv "$(ls -t "$OUT"/callgrind.out.* | head -1)" "$OUT/callgrind.simulate"
stop_server || true
total=$(sed -n 's/^totals: *//p' "$OUT/callgrind.simulate")
echo "simulate: $total instructions, $((total / N)) per request over $N requests ($OUT/callgrind.simulate)"
# top NAME FLAG: the ten largest rows of callgrind_annotate (inclusive yes/no), per request.
top() {
    echo "  $1 per request:"
    callgrind_annotate --inclusive="$2" "$OUT/callgrind.simulate" 2> /dev/null | sed -n '/file:function/,/^$/p' | sed -n "3,${3}p" |
        sed 's/^ *\([0-9,]*\) *([^)]*) *\([^ ]*\).*/\1 \2/' |
        awk -v n="$N" '{ gsub(",", "", $1); sub(".*/", "", $2); if (!seen[$2]++) printf "  %8.0f  %s\n", $1 / n, $2 }'
}
top exclusive no 14
top inclusive yes 40 | grep -v 'libmicrohttpd\|???:0x'
