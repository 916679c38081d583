#!/bin/sh
# Hostile clients against the real `jitevm serve` on a loopback port
# (tests/hardening_probe.py drives them): clients that half-close after
# sending, slowloris heads, the per-address connection limit, request
# framing a proxy could read differently (and what libmicrohttpd refused
# with HTML), bodies over the limit refused while still being uploaded
# (the client reads its 413, no reset, no hang), a batch whose client hangs up, and a batch that runs into
# the whole-request timeout; then the request gas budget, the EVM memory
# limits on both tiers, ids, the log, the admin token, /metrics, and the
# read-only mode, on a read-only volume too. Each case is bounded to a few
# seconds with scaled-down counts and limits.
# Ends with "N passed, N failed"; exit status 1 when any failed.
#
# Usage: sh tests/hardening-e2e.sh [path/to/jitevm]
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
command -v python3 > /dev/null || { echo "hardening-e2e: python3 is needed"; exit 1; }
[ -x "$JITEVM" ] || { echo "hardening-e2e: no binary at $JITEVM"; exit 1; }

NAME=hardening-e2e
. "$(dirname "$0")/e2e-lib.sh"
e2e_tmp hardening

DB=$TMP/hardening.db
# tests/data/hardening-genesis.json: a sender, a loop of ~89k gas (c003), one that jumps to itself (c004).
"$JITEVM" init --db "$DB" --chain "$HERE/data/hardening-genesis.json" > "$TMP/init.log" 2>&1 || { cat "$TMP/init.log"; exit 1; }

# probe CASES...: runs the probe's cases against the server; counts its lines.
probe() {
    python3 "$HERE/hardening_probe.py" 127.0.0.1 "$PORT" "$@" > "$TMP/probe.out" 2>&1
    grep "^FAIL\|Traceback\|Error" "$TMP/probe.out"
    PASSED=$((PASSED + $(grep -c '^ok ' "$TMP/probe.out")))
    FAILED=$((FAILED + $(grep -c '^FAIL ' "$TMP/probe.out")))
    grep -q 'Traceback' "$TMP/probe.out" && FAILED=$((FAILED + 1))
}

# start_server ARGS...: a server on a free port (serve_db); sets PORT and SERVER_PID.
start_server() {
    rm -f "$TMP/server.log"
    serve_db "$TMP/server.log" "$@"
}

# Every request goes to the one worker (no inline runs); no gas limits (the time
# limits are what these cases test); small limits so
# that each case takes a few seconds.
start_server --inline-budget 0 --workers 1 --head-timeout 1s --max-connections-per-ip 8 \
    --call-timeout 1s --request-timeout 2s --gas-cap 0 --request-gas 0 --max-buffered 100k
probe halfclose framing slowloris perip disconnect deadline fairshare buffered
stop_server

# The fast HTTP path and its hand-offs (inline runs on), then the same
# cases with every request through libmicrohttpd.
start_server --call-timeout 1s --gas-cap 0 --request-gas 0
probe fastpath fasthandovers
stop_server
start_server --call-timeout 1s --gas-cap 0 --request-gas 0 --no-fast-http
probe fastpath nofasthandovers
stop_server

pass() { PASSED=$((PASSED + 1)); }
fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL: $1"
    [ -n "$2" ] && echo "  got: $2"
}
check_eq() { if [ "$2" = "$3" ]; then pass; else fail "$1: expected $2" "$3"; fi; }
rpc() { curl -s -H 'Content-Type: application/json' --data-binary "$1" "http://127.0.0.1:$PORT/"; }

# Bodies over the limit refused while they are uploaded (the default 5 MB body limit).
start_server
probe upload
# Each of those refusals is counted under its own label on /metrics (57 uploads, and the idle one).
N=$(curl -s "http://127.0.0.1:$PORT/metrics" | sed -n 's/^jitevm_limit_hits_total{limit="framing"} //p')
[ "${N:-0}" -ge 57 ] && pass || fail "/metrics counts the framing refusals under limit=\"framing\"" "${N:-no such line}"
stop_server

# ---- the request gas budget: a batch's calls share --request-gas.
# Each call of c003 spends ~89k gas: with 1,000,000 for the request, a batch of 20
# gets about 11 results, then the budget's error for the rest; the next request has it whole.
start_server --request-gas 1000000
BATCH=$(python3 -c 'import json; print(json.dumps([{"jsonrpc":"2.0","id":i,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c003"}]} for i in range(20)]))')
OUT=$(rpc "$BATCH")
NRES=$(printf '%s' "$OUT" | grep -o '"result"' | wc -l)
NBUD=$(printf '%s' "$OUT" | grep -o '"code":-32000,"message":"request gas budget exhausted' | wc -l)
[ "$NRES" -ge 9 ] && [ "$NRES" -le 12 ] && [ $((NRES + NBUD)) -eq 20 ] && pass ||
    fail "a batch of 20 calls of ~89k gas under --request-gas 1000000: ~11 results, the rest refused" "$NRES results, $NBUD budget errors: $(printf '%s' "$OUT" | cut -c1-300)"
# eth_estimateGas's runs count too: each estimate of c003 takes several runs of ~110k, so a
# batch of 4 gets its first estimates (the same value) and then the budget's error.
BATCH=$(python3 -c 'import json; print(json.dumps([{"jsonrpc":"2.0","id":i,"method":"eth_estimateGas","params":[{"from":"0x00000000000000000000000000000000000000aa","to":"0x000000000000000000000000000000000000c003"}]} for i in range(4)]))')
OUT=$(rpc "$BATCH")
case $OUT in '[{"jsonrpc":"2.0","id":0,"result":"0x'*'"id":3,"error":{"code":-32000,"message":"request gas budget exhausted'*) pass ;;
    *) fail "a batch of 4 eth_estimateGas under --request-gas 1000000: estimates first, then the budget's error" "$OUT" ;; esac
# An endless loop with 10^11 gas stops at the budget, not the call timeout.
OUT=$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c004","gas":"0x174876e800"}]}')
case $OUT in *'request gas budget exhausted (1000000 gas'*) pass ;; *) fail "a call asking for more gas than the budget stops at the budget" "$OUT" ;; esac
OUT=$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c003"}]}')
case $OUT in *'"result":"0x'*) pass ;; *) fail "the next request has the whole budget again" "$OUT" ;; esac
stop_server

# ---- EVM memory: a cap per call independent of gas, and a budget for all calls together,
# on both tiers. With no gas limits, MLOAD at 128 MB (code given as a state override)
# would allocate 256 MB; 1 MB is fine.
BIG='{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x00000000000000000000000000000000000000e1","gas":"0x174876e800"},"latest",{"0x00000000000000000000000000000000000000e1":{"code":"0x63080000005100"}}]}'
SMALL='{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x00000000000000000000000000000000000000e2","gas":"0x174876e800"},"latest",{"0x00000000000000000000000000000000000000e2":{"code":"0x621000005100"}}]}'
for engine in interp jit; do
    start_server --engine $engine --gas-cap 0 --max-call-memory 64M
    OUT=$(rpc "$BIG")
    case $OUT in *'"code":-32000,"message":"memory limit reached'*) pass ;; *) fail "$engine: a call past --max-call-memory ends with the memory limit error" "$OUT" ;; esac
    OUT=$(rpc "$SMALL")
    case $OUT in *'"result":"0x"'*) pass ;; *) fail "$engine: a 1 MB memory call runs" "$OUT" ;; esac
    stop_server
    start_server --engine $engine --gas-cap 0 --max-call-memory 0 --max-exec-memory 64M
    OUT=$(rpc "$BIG")
    case $OUT in *'"code":-32000,"message":"memory limit reached'*) pass ;; *) fail "$engine: a call past --max-exec-memory ends with the memory limit error" "$OUT" ;; esac
    OUT=$(rpc "$SMALL")
    case $OUT in *'"result":"0x"'*) pass ;; *) fail "$engine: the budget is given back: a 1 MB call runs after" "$OUT" ;; esac
    stop_server
done

# ---- the admin token, the log, /metrics
# A short token is refused at start (128 bits at least).
if "$JITEVM" serve --db "$DB" --listen 127.0.0.1:0 --admin --admin-token short > "$TMP/short.log" 2>&1; then
    fail "a 5-character admin token is refused" "$(cat "$TMP/short.log")"
else
    grep -q 'at least 128 bits' "$TMP/short.log" && pass || fail "short token message" "$(cat "$TMP/short.log")"
fi
rm -f "$DB.admin-token"
start_server --admin --log-level debug
TOKEN=$(cat "$DB.admin-token" 2> /dev/null)
[ ${#TOKEN} -ge 32 ] && pass || fail "a generated token is written to DB.admin-token" "'$TOKEN'"
[ "$(stat -c %a "$DB.admin-token" 2> /dev/null)" = 600 ] && pass || fail "DB.admin-token has mode 0600" "$(stat -c %a "$DB.admin-token" 2>&1)"
grep -q -- "$TOKEN" "$TMP/server.log" && fail "the generated token is not in the log" "$(grep -- "$TOKEN" "$TMP/server.log")" || pass
OUT=$(curl -s -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
    --data-binary '{"jsonrpc":"2.0","id":1,"method":"anvil_setBalance","params":["0x00000000000000000000000000000000000000aa","0x1"]}' "http://127.0.0.1:$PORT/")
case $OUT in *'"result":'*) pass ;; *) fail "the token from the file authorizes" "$OUT" ;; esac
# ids are echoed exactly as sent.
for id in 1e-99999 123456789012345678901234567890 -0.50E+3 1.5 7; do
    OUT=$(rpc "{\"jsonrpc\":\"2.0\",\"id\":$id,\"method\":\"eth_chainId\"}")
    check_eq "id $id echoed" "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":\"0x539\"}" "$OUT"
done
OUT=$(rpc '[{"jsonrpc":"2.0","id":18446744073709551617,"method":"eth_chainId"},{"jsonrpc":"2.0","id":2.50,"method":"nope"}]')
case $OUT in *'"id":18446744073709551617,"result":"0x539"'*'"id":2.50,"error"'*) pass ;; *) fail "ids echoed in a batch" "$OUT" ;; esac
# Control characters from clients are escaped in the log: no forged line.
rpc '{"jsonrpc":"2.0","id":1,"method":"x\nFORGED 2020-01-01 error \u001b[31mred","params":[]}' > /dev/null
sleep 0.2
grep -q '^FORGED' "$TMP/server.log" && fail "a method name with a newline forges no log line" "$(grep -n FORGED "$TMP/server.log")" || pass
grep -q 'x\\x0aFORGED 2020-01-01 error \\x1b\[31mred' "$TMP/server.log" && pass || fail "control characters logged as \\xNN" "$(grep FORGED "$TMP/server.log")"
# Repeated error lines are rate-limited: 200 unknown methods in one batch.
BATCH=$(python3 -c 'import json; print(json.dumps([{"jsonrpc":"2.0","id":i,"method":"nope_%d" % i} for i in range(200)]))')
rpc "$BATCH" > /dev/null
sleep 1.1
rpc '{"jsonrpc":"2.0","id":1,"method":"nope_last"}' > /dev/null
sleep 0.2
N=$(grep -c 'rpc nope_' "$TMP/server.log")
[ "$N" -le 45 ] && pass || fail "repeated error lines are rate-limited" "$N lines for 201 errors"
grep -q 'similar lines suppressed' "$TMP/server.log" && pass || fail "the suppressed lines are counted in the log" "$(tail -3 "$TMP/server.log")"
# /metrics carries no CORS header (the RPC answers still do).
curl -s -D "$TMP/h" -o /dev/null "http://127.0.0.1:$PORT/metrics"
grep -qi 'Access-Control-Allow-Origin' "$TMP/h" && fail "/metrics has no Access-Control-Allow-Origin" "$(cat "$TMP/h")" || pass
# Failed authentications: after 10 in a minute the address gets 429.
for i in 1 2 3 4 5 6 7 8 9 10; do
    curl -s -o /dev/null -H 'Content-Type: application/json' -H 'Authorization: Bearer wrong' \
        --data-binary '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' "http://127.0.0.1:$PORT/"
done
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
    --data-binary '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' "http://127.0.0.1:$PORT/")
[ "$CODE" = 429 ] && grep -q '"code":-32001' "$TMP/body" && pass || fail "the 11th authentication in a minute gets 429" "$CODE $(cat "$TMP/body")"
stop_server

# ---- read-only mode: a database on a read-only volume is served; writes are refused.
# ro_checks: reads work on both engines' paths, an admin write gets the read-only error.
ro_checks() {
    OUT=$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c003"}]}')
    case $OUT in *'"result":"0x'*) pass ;; *) fail "$1: eth_call" "$OUT $(cat "$TMP/server.log")" ;; esac
    OUT=$(curl -s -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
        --data-binary '{"jsonrpc":"2.0","id":1,"method":"anvil_setBalance","params":["0x00000000000000000000000000000000000000aa","0x2"]}' "http://127.0.0.1:$PORT/")
    case $OUT in *'read-only mode: anvil_setBalance is refused'*) pass ;; *) fail "$1: admin write refused" "$OUT" ;; esac
}
SUM=$(sha256sum "$DB" | cut -d' ' -f1)
start_server --read-only --admin --admin-token "$TOKEN"
ro_checks "--read-only"
stop_server
[ "$(sha256sum "$DB" | cut -d' ' -f1)" = "$SUM" ] && pass || fail "--read-only leaves the database unchanged"
# A database on a read-only volume: its -shm file cannot be made, so the server chooses
# read-only mode by itself and opens the file immutable. The volume is a read-only bind
# mount in a mount namespace of the server's own (unshare -m as root, unshare -rm as a
# user where user namespaces are allowed), so that nothing outlives the test.
RODIR=$TMP/volume
mkdir -p "$RODIR"
cp "$DB" "$RODIR/"
ROVOL=
for u in "unshare -m" "unshare -rm"; do
    if $u sh -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && ! touch "$1/probe" 2> /dev/null' sh "$RODIR" 2> /dev/null; then
        ROVOL=$u
        break
    fi
done
if [ -z "$ROVOL" ]; then
    echo "hardening-e2e: SKIPPED a database on a read-only volume: no mount namespace here (unshare -m / -rm refused); not counted as a pass"
else
    SUM=$(sha256sum "$RODIR/hardening.db" | cut -d' ' -f1)
    rm -f "$TMP/server.log"
    $ROVOL sh -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"' sh "$RODIR" \
        "$JITEVM" serve --db "$RODIR/hardening.db" --listen 127.0.0.1:0 --admin --admin-token "$TOKEN" --engine tiered > "$TMP/server.log" 2>&1 &
    SERVER_PID=$!
    wait_for_server "$TMP/server.log"
    PORT=$SERVED_PORT
    grep -q 'read-only mode: the database file is not writable' "$TMP/server.log" && pass || fail "a read-only volume: read-only mode chosen by itself" "$(cat "$TMP/server.log")"
    grep -q 'opened immutable' "$TMP/server.log" && pass || fail "a read-only volume: the database opened immutable" "$(cat "$TMP/server.log")"
    ro_checks "a read-only volume"
    stop_server
    [ "$(sha256sum "$RODIR/hardening.db" | cut -d' ' -f1)" = "$SUM" ] && [ "$(ls "$RODIR")" = hardening.db ] && pass ||
        fail "a read-only volume: the database unchanged, no file beside it" "$(ls -la "$RODIR")"
    # A write-ahead log with content beside it would be missed by the immutable open: refused, saying why.
    printf 'not empty' > "$RODIR/hardening.db-wal"
    if timeout 20 $ROVOL sh -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"' sh "$RODIR" \
        "$JITEVM" serve --db "$RODIR/hardening.db" --listen 127.0.0.1:0 > "$TMP/wal.log" 2>&1; then
        fail "a read-only volume with a -wal beside the database is refused" "$(cat "$TMP/wal.log")"
    else
        grep -q 'a write-ahead log with 9 bytes lies beside it' "$TMP/wal.log" && pass || fail "the refusal says why" "$(cat "$TMP/wal.log")"
    fi
fi

echo "hardening-e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
