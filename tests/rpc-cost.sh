#!/bin/sh
# The cost of one JSON-RPC request over HTTP, in instructions (callgrind):
# wall clock on a shared machine is noise, instruction counts are not.
# jitevm serve runs under callgrind with instrumentation off; after a
# warm-up, for each row it is switched on for N requests (sent over C
# kept-alive connections, each waiting for its answer) and the counts are
# dumped; the server's instructions over those requests (every thread:
# libmicrohttpd, the gate, JSON, dispatch, the EVM, SQLite, the kernel's
# share excluded) divided by N are printed per row, with the ten functions
# that cost most (exclusive). The profiles stay in OUT for callgrind_annotate.
#
# Note: valgrind counts each iteration of a rep-prefixed string instruction
# (memset's `rep stosb` above 2 KB) as an instruction: libmicrohttpd's
# zeroing of its connection pool weighs far more here than in cycles.
#
# Usage: sh tests/rpc-cost.sh [path/to/jitevm] [OUT]
# Environment: RPC_COST_N (requests per row, default 20000), RPC_COST_C
# (connections, default 4), RPC_COST_ROWS (default "chainId balanceOf"),
# RPC_COST_ARGS (more jitevm serve arguments, e.g. "--inline-budget 0"),
# RPC_COST_FIRST=1 (also count the server's first balanceOf alone, before
# any warm-up: row firstBalanceOf), RPC_COST_LIVE=1 (serve a live database
# instead: `init --fork-url` an anvil on loopback holding the same token,
# which the first call fetches; the rows' requests are then warm calls of
# live mode, and firstBalanceOf the cold call). RPC_COST_SYSCALLS=1: count
# system calls instead: the server runs natively, `strace -c -f` is
# attached for each row's N requests, and the calls per request are printed
# by name (strace slows the server: compare counts, not its times).
# RPC_COST_CPU=1: the server's own CPU time instead (native, from
# /proc/PID/stat: user and system, kernel included, per request over the
# N requests; clock ticks of 10 ms, so use N of 20000 or more), and the
# context switches of its threads per request (/proc/PID/task/*/status).
# On a loaded machine the time varies by tens of percent: alternate the
# binaries compared.
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
N=${RPC_COST_N:-20000}
C=${RPC_COST_C:-4}
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=rpc-cost
set -e
. "$HERE/e2e-lib.sh"
SYSCALLS=${RPC_COST_SYSCALLS:-0}
CPU=${RPC_COST_CPU:-0}
if [ "$CPU" = 1 ]; then
    :
elif [ "$SYSCALLS" = 1 ]; then
    command -v strace > /dev/null || { echo "rpc-cost: strace is needed (apt-get install strace)"; exit 1; }
else
    command -v valgrind > /dev/null && command -v callgrind_control > /dev/null ||
        { echo "rpc-cost: valgrind is needed (apt-get install valgrind)"; exit 1; }
fi
e2e_tmp rpc-cost
OUT=${2:-$TMP}
mkdir -p "$OUT"

TOKEN=0x000000000000000000000000000000000000c008
TOKEN_CODE=0x60003560e01c6370a0823114601357600080fd5b600435600052600060205260406000205460005260206000f3
HOLDER_WORD=000000000000000000000000000000000000000000000000000000000000beef
BALANCE=0x00000000000000000000000000000000000000000000000000000000000f4240
ADMIN=rpc-cost-token-0123456789abcdef0123456789

prague_genesis "$TMP/genesis.json"
if [ "${RPC_COST_LIVE:-0}" = 1 ]; then
    # The upstream holds the token; jitevm's database is a live one in front of it.
    install_anvil
    UPORT=$(free_port 21)
    "$ANVIL" --port "$UPORT" --hardfork prague --silent > "$TMP/anvil.log" 2>&1 &
    PIDS="$!"
    UURL=http://127.0.0.1:$UPORT/
    i=0; until curl -s -o /dev/null "$UURL"; do i=$((i + 1)); [ $i -gt 600 ] && { echo "rpc-cost: anvil did not start"; exit 1; }; sleep 0.05; done
    SLOT=$(post "$UURL" "$(req web3_sha3 "[\"0x${HOLDER_WORD}0000000000000000000000000000000000000000000000000000000000000000\"]")" | result)
    post "$UURL" "$(req anvil_setCode "[\"$TOKEN\",\"$TOKEN_CODE\"]")" > /dev/null
    post "$UURL" "$(req anvil_setStorageAt "[\"$TOKEN\",\"$SLOT\",\"$BALANCE\"]")" > /dev/null
    post "$UURL" "$(req evm_mine '[]')" > /dev/null
    "$JITEVM" init --db "$TMP/cost.db" --fork-url "$UURL" --chain "$TMP/genesis.json" > /dev/null
else
    "$JITEVM" init --db "$TMP/cost.db" --chain "$TMP/genesis.json" > /dev/null
fi
PROFILER="valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$OUT/callgrind.out"
{ [ "$SYSCALLS" = 1 ] || [ "$CPU" = 1 ]; } && PROFILER=
$PROFILER "$JITEVM" serve --db "$TMP/cost.db" --listen 127.0.0.1:0 --admin --admin-token $ADMIN --log-level warn \
    ${RPC_COST_ARGS:-} > "$TMP/server.log" 2>&1 &
SERVER_PID=$!
wait_for_server "$TMP/server.log"
PORT=$SERVED_PORT
apost() { curl -s -H 'Content-Type: application/json' -H "Authorization: Bearer $ADMIN" --data-binary "$1" "$SERVED_URL"; }
# The contracts of bench-rpc: an ERC-20 balanceOf reading one slot.
if [ "${RPC_COST_LIVE:-0}" != 1 ]; then
    SLOT=$(apost "$(req web3_sha3 "[\"0x${HOLDER_WORD}0000000000000000000000000000000000000000000000000000000000000000\"]")" | result)
    apost "$(req anvil_setCode "[\"$TOKEN\",\"$TOKEN_CODE\"]")" > /dev/null
    apost "$(req anvil_setStorageAt "[\"$TOKEN\",\"$SLOT\",\"$BALANCE\"]")" > /dev/null
fi
CHAINID_BODY=$(req eth_chainId '[]')
BALANCE_BODY=$(req eth_call "[{\"to\":\"$TOKEN\",\"data\":\"0x70a08231$HOLDER_WORD\"},\"latest\"]")
echo "rpc-cost: $N requests per row over $C connections; jitevm serve ${RPC_COST_ARGS:-(defaults)}$([ "${RPC_COST_LIVE:-0}" = 1 ] && echo ', live database')"
# count_dump ROW: the counts since the last zeroing, as OUT/callgrind.ROW; prints the total.
count_dump() {
    callgrind_control -i off "$SERVER_PID" > /dev/null 2>&1
    callgrind_control -d "$1" "$SERVER_PID" > /dev/null 2>&1
    sleep 1
    dump=$(ls -t "$OUT"/callgrind.out.* | head -1)
    mv "$dump" "$OUT/callgrind.$1"
    sed -n 's/^totals: *//p' "$OUT/callgrind.$1"
}
if [ "${RPC_COST_FIRST:-0}" = 1 ] && [ "$SYSCALLS" != 1 ] && [ "$CPU" != 1 ]; then
    # The server's first balanceOf (after one eth_chainId, which touches no
    # contract), counted alone: on a live database the cold call, fetched
    # from the upstream; on a plain one, the first run of the contract.
    apost "$CHAINID_BODY" > /dev/null
    sleep 1
    callgrind_control -z "$SERVER_PID" > /dev/null 2>&1
    callgrind_control -i on "$SERVER_PID" > /dev/null 2>&1
    got=$(apost "$BALANCE_BODY" | result)
    total=$(count_dump firstBalanceOf)
    echo "firstBalanceOf: $total instructions, the first balanceOf alone ($OUT/callgrind.firstBalanceOf)"
else
    got=$(apost "$BALANCE_BODY" | result)
fi
[ "$got" = "$BALANCE" ] || { echo "rpc-cost: balanceOf answered '$got', not $BALANCE"; exit 1; }
for row in ${RPC_COST_ROWS:-chainId balanceOf}; do
    case $row in
    chainId) body=$CHAINID_BODY ;;
    balanceOf) body=$BALANCE_BODY ;;
    *) echo "rpc-cost: unknown row $row"; exit 1 ;;
    esac
    # Warm-up (code cache, compiled program, each thread's connection), uncounted.
    python3 "$HERE/rpc_cost_client.py" 127.0.0.1 "$PORT" 1000 "$C" "$body"
    sleep 1
    if [ "$CPU" = 1 ]; then
        # utime and stime: fields 14 and 15 (the name, field 2, has no spaces here);
        # then the context switches of all the server's threads (a thread
        # that sleeps in epoll_wait and is woken costs more than its system calls).
        switches() { cat /proc/"$SERVER_PID"/task/*/status 2> /dev/null |
            awk '/^voluntary_ctxt_switches/ { v += $2 } /^nonvoluntary_ctxt_switches/ { i += $2 } END { print v + 0, i + 0 }'; }
        before="$(awk '{ print $14, $15 }' "/proc/$SERVER_PID/stat") $(switches)"
        python3 "$HERE/rpc_cost_client.py" 127.0.0.1 "$PORT" "$N" "$C" "$body"
        after="$(awk '{ print $14, $15 }' "/proc/$SERVER_PID/stat") $(switches)"
        echo "$before $after" | awk -v n="$N" -v hz="$(getconf CLK_TCK)" -v row="$row" '{
            u = ($5 - $1) / hz * 1e6 / n; s = ($6 - $2) / hz * 1e6 / n
            printf "%s: server CPU per request over %d requests: %.1f us (user %.1f, system %.1f); context switches per request %.2f (%.2f involuntary)\n",
                row, n, u + s, u, s, ($7 - $3 + $8 - $4) / n, ($8 - $4) / n }'
        continue
    fi
    if [ "$SYSCALLS" = 1 ]; then
        strace -c -f -p "$SERVER_PID" -o "$OUT/strace.$row" 2> /dev/null &
        STRACE_PID=$!
        sleep 1 # attached to every thread
        python3 "$HERE/rpc_cost_client.py" 127.0.0.1 "$PORT" "$N" "$C" "$body"
        kill -INT "$STRACE_PID"
        wait "$STRACE_PID" 2> /dev/null || true
        echo "$row: system calls per request over $N requests ($OUT/strace.$row)"
        awk -v n="$N" '$NF ~ /^[a-z_0-9]+$/ && $NF != "syscall" && $NF != "total" && $(NF - 1) ~ /^[0-9]+$/ {
            calls = $(NF - 1); if ($(NF - 2) ~ /^[0-9]+$/ && NF == 6) { calls = $(NF - 2) }
            if (calls / n >= 0.01) printf "  %8.2f  %s\n", calls / n, $NF }' "$OUT/strace.$row"
        continue
    fi
    callgrind_control -z "$SERVER_PID" > /dev/null 2>&1
    callgrind_control -i on "$SERVER_PID" > /dev/null 2>&1
    python3 "$HERE/rpc_cost_client.py" 127.0.0.1 "$PORT" "$N" "$C" "$body"
    total=$(count_dump "$row")
    echo "$row: $total instructions, $((total / N)) per request ($OUT/callgrind.$row)"
    callgrind_annotate --inclusive=no "$OUT/callgrind.$row" 2> /dev/null | sed -n '/file:function/,/^$/p' | sed -n '3,12p' |
        sed 's/^ *\([0-9,]*\) *([^)]*) *\([^ ]*\).*/\1 \2/' |
        awk -v n="$N" '{ gsub(",", "", $1); sub(".*/", "", $2); printf "  %8.0f  %s\n", $1 / n, $2 }'
done
kill "$SERVER_PID"
wait "$SERVER_PID" 2> /dev/null || true
SERVER_PID=
