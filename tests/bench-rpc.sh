#!/bin/sh
# jitevm serve against anvil, side by side in one run: the same contracts
# loaded into both, the same requests, driven by wrk (2 threads, 32
# connections, bounded time). Rows: eth_chainId, an ERC-20 balanceOf (one
# SLOAD), a 1,000-iteration loop (~89k gas), eth_simulateV1 of 10
# balanceOf calls in one block and debug_traceCall of the balanceOf with
# callTracer. Prints requests/s and
# p50/p99 latency for each server and the ratio jitevm/anvil.
#
# anvil comes from the npm package @foundry-rs/anvil, installed under
# build/anvil (never committed); wrk from Debian.
#
# Usage: sh tests/bench-rpc.sh [path/to/jitevm]
# Environment: BENCH_SECONDS (per run, default 5), BENCH_ROUNDS (runs per
# row and server, the best counts; default 3), ANVIL_VERSION (default 1.7.1),
# BENCH_ROWS (which rows, default all: chainId balanceOf loop simulate
# traceCall), BENCH_THREADS (e.g. "2 8": one more jitevm per value, serving
# the same database with --threads N, measured in the same rounds; a row
# per value), BENCH_EACH=1 (also print every run's req/s to stderr, for
# medians: "bench-rpc: run ROUND LABEL REQ/S").
# The simulate row in instructions per request (callgrind, the same
# database and body): tests/simulate/sim-cost.sh.
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
set -e
NAME=bench-rpc
. "$(dirname "$0")/e2e-lib.sh"

# ---- tools
command -v wrk > /dev/null || echo "bench-rpc: installing wrk"
install_wrk
install_anvil
e2e_tmp bench

# ---- the contracts (the same bytes in both)
TOKEN=0x000000000000000000000000000000000000c008
LOOP=0x000000000000000000000000000000000000c003
# balanceOf(address): checks the selector, returns sload(keccak(holder . 0)).
TOKEN_CODE=0x60003560e01c6370a0823114601357600080fd5b600435600052600060205260406000205460005260206000f3
# 1,000 iterations of acc = (acc * 31 + i) * 2 through memory; 89,021 gas.
LOOP_CODE=0x6103e860005b5850601f02810180600052600051019060019003908160055760005260206000f3
HOLDER_WORD=000000000000000000000000000000000000000000000000000000000000beef
BALANCE=0x00000000000000000000000000000000000000000000000000000000000f4240

# jitevm: a Prague chain (as anvil's --hardfork prague) with a 30M block gas limit.
prague_genesis "$TMP/genesis.json"
"$JITEVM" init --db "$TMP/bench.db" --chain "$TMP/genesis.json" > /dev/null
start_with_anvil "$TMP/bench.db" bench-token-0123456789abcdef0123456789 7

post() { curl -s -H 'Content-Type: application/json' -H 'Authorization: Bearer bench-token-0123456789abcdef0123456789' --data-binary "$2" "$1"; }
# The holder's slot: keccak256(holder . 0), as Solidity lays out a mapping at slot 0.
SLOT=$(post "$JURL" "$(req web3_sha3 "[\"0x${HOLDER_WORD}0000000000000000000000000000000000000000000000000000000000000000\"]")" |
    sed -n 's/.*"result":"\(0x[0-9a-f]*\)".*/\1/p')
for url in "$JURL" "$AURL"; do
    post "$url" "$(req anvil_setCode "[\"$TOKEN\",\"$TOKEN_CODE\"]")" > /dev/null
    post "$url" "$(req anvil_setCode "[\"$LOOP\",\"$LOOP_CODE\"]")" > /dev/null
    post "$url" "$(req anvil_setStorageAt "[\"$TOKEN\",\"$SLOT\",\"$BALANCE\"]")" > /dev/null
done
# The system contracts a Prague chain holds (a simulated block without the
# EIP-7002/7251 contracts is refused, as geth refuses it): the dev chain's.
dev_system_codes | while read -r a code; do
    for url in "$JURL" "$AURL"; do post "$url" "$(req anvil_setCode "[\"$a\",\"$code\"]")" > /dev/null; done
done

# BENCH_THREADS: more jitevm servers on the same database (the contracts
# are in it now), each with its --threads; JSERVERS lists "label url".
JSERVERS="default $JURL"
for n in ${BENCH_THREADS:-}; do
    "$JITEVM" serve --db "$TMP/bench.db" --listen 127.0.0.1:0 --threads "$n" --log-level warn > "$TMP/jitevm-t$n.log" 2>&1 &
    PIDS="$PIDS $!"
    SERVER_PID=$!
    wait_for_server "$TMP/jitevm-t$n.log"
    SERVER_PID=
    JSERVERS="$JSERVERS threads=$n $SERVED_URL"
done
[ -n "${BENCH_THREADS:-}" ] && JSERVERS=${JSERVERS#default $JURL }

CHAINID_BODY=$(req eth_chainId '[]')
BALANCE_BODY=$(req eth_call "[{\"to\":\"$TOKEN\",\"data\":\"0x70a08231$HOLDER_WORD\"},\"latest\"]")
LOOP_BODY=$(req eth_call "[{\"to\":\"$LOOP\"},\"latest\"]")
TRACE_BODY=$(req debug_traceCall "[{\"to\":\"$TOKEN\",\"data\":\"0x70a08231$HOLDER_WORD\"},\"latest\",{\"tracer\":\"callTracer\"}]")

# Both must give the same answers before their speed means anything.
for body in "$CHAINID_BODY" "$BALANCE_BODY" "$LOOP_BODY"; do
    j=$(post "$JURL" "$body" | sed 's/.*"result":\("[^"]*"\).*/\1/')
    a=$(post "$AURL" "$body" | sed 's/.*"result":\("[^"]*"\).*/\1/')
    if [ "$j" != "$a" ]; then
        echo "bench-rpc: the answers differ for $body"
        echo "  jitevm: $j"
        echo "  anvil:  $a"
        exit 1
    fi
done
# eth_simulateV1 of 10 calls (balanceOf) in one block: the same returnData from both.
SIM_CALL="{\"to\":\"$TOKEN\",\"input\":\"0x70a08231$HOLDER_WORD\"}"
SIM_BODY=$(req eth_simulateV1 "[{\"blockStateCalls\":[{\"calls\":[$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL,$SIM_CALL]}]},\"latest\"]")
j=$(post "$JURL" "$SIM_BODY" | grep -o '"returnData":"[^"]*"' | tr '\n' ' ')
a=$(post "$AURL" "$SIM_BODY" | grep -o '"returnData":"[^"]*"' | tr '\n' ' ')
if [ "$j" != "$a" ] || [ -z "$j" ]; then
    echo "bench-rpc: the answers differ for eth_simulateV1"
    echo "  jitevm: $j"
    echo "  anvil:  $a"
    exit 1
fi
# The traces agree but for the top frame's gas (anvil: the gas after the
# intrinsic cost; geth and jitevm: the gas limit): compare their outputs.
for url in "$JURL" "$AURL"; do
    trace=$(post "$url" "$TRACE_BODY")
    case $trace in *'"type":"CALL"'*) ;; *) trace= ;; esac
    case $trace in *"\"output\":\"$BALANCE\""*) ;; *) echo "bench-rpc: debug_traceCall did not answer the balance's call frame at $url"; exit 1 ;; esac
done
EST_J=$(post "$JURL" "$(req eth_estimateGas "[{\"to\":\"$LOOP\"}]")" | sed 's/.*"result":"\([^"]*\)".*/\1/')
EST_A=$(post "$AURL" "$(req eth_estimateGas "[{\"to\":\"$LOOP\"}]")" | sed 's/.*"result":"\([^"]*\)".*/\1/')
echo "answers agree; eth_estimateGas of the loop: jitevm $(printf %d "$EST_J") (geth's search, within 1.5%), anvil $(printf %d "$EST_A") (exact)"
echo "jitevm $("$JITEVM" version | cut -d' ' -f2) vs $("$ANVIL" --version | head -1); wrk -t2 -c32 -d${SECONDS_PER_RUN}s, best of $ROUNDS runs each, jitevm and anvil alternating; $(nproc) CPUs"

# to_ms VALUE: wrk's "123.45us" / "1.23ms" / "1.01s" in milliseconds.
to_ms() {
    case $1 in
    *us) echo "${1%us}" | awk '{printf "%.3f", $1 / 1000}' ;;
    *ms) echo "${1%ms}" | awk '{printf "%.3f", $1}' ;;
    *s) echo "${1%s}" | awk '{printf "%.3f", $1 * 1000}' ;;
    *) echo "$1" ;;
    esac
}

# once URL: "req/s p50_ms p99_ms" of one wrk run with $TMP/req.lua.
once() {
    wrk -t2 -c32 -d"${SECONDS_PER_RUN}s" --latency -s "$TMP/req.lua" "$1" > "$TMP/wrk.out" 2>&1
    rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$TMP/wrk.out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$TMP/wrk.out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$TMP/wrk.out")")
    errors=$(grep -c 'Non-2xx\|Socket errors' "$TMP/wrk.out" || true)
    [ "$errors" -gt 0 ] && { echo "bench-rpc: wrk saw errors:" >&2; cat "$TMP/wrk.out" >&2; }
    echo "${rps:-0} ${p50:-0} ${p99:-0}"
}

# best OLD NEW: whichever of two "req/s p50 p99" has more req/s.
best() { echo "$1 $2" | awk '{ if ($4 > $1) print $4, $5, $6; else print $1, $2, $3 }'; }

# compare BODY: ROUNDS rounds of each jitevm server then anvil, alternating
# so that the machine's drift (this is a shared VM) falls on all alike; the
# best run of each. Prints "a_rps a_p50 a_p99" and then, per server of
# JSERVERS, "rps p50 p99".
compare() {
    printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' "$1" > "$TMP/req.lua"
    abest="0 0 0" r=0
    rm -f "$TMP"/best.*
    while [ $r -lt "$ROUNDS" ]; do
        i=0
        set -- $JSERVERS
        while [ $# -ge 2 ]; do
            prev=$(cat "$TMP/best.$i" 2> /dev/null || echo "0 0 0")
            run=$(once "$2")
            [ "${BENCH_EACH:-0}" = 1 ] && echo "bench-rpc: run $r $1 ${run%% *}" >&2
            best "$prev" "$run" > "$TMP/best.$i"
            i=$((i + 1))
            shift 2
        done
        run=$(once "$AURL")
        [ "${BENCH_EACH:-0}" = 1 ] && echo "bench-rpc: run $r anvil ${run%% *}" >&2
        abest=$(best "$abest" "$run")
        r=$((r + 1))
    done
    out=$abest i=0
    while [ -f "$TMP/best.$i" ]; do out="$out $(cat "$TMP/best.$i")"; i=$((i + 1)); done
    echo "$out"
}

printf '\n| request | jitevm req/s | p50 ms | p99 ms | anvil req/s | p50 ms | p99 ms | jitevm/anvil |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
MET=yes
for row in ${BENCH_ROWS:-chainId balanceOf loop simulate traceCall}; do
    case $row in
    chainId) body=$CHAINID_BODY name="eth_chainId" ;;
    balanceOf) body=$BALANCE_BODY name="eth_call balanceOf (1 SLOAD)" ;;
    loop) body=$LOOP_BODY name="eth_call loop (1,000 iterations, 89k gas)" ;;
    simulate) body=$SIM_BODY name="eth_simulateV1 of 10 calls (balanceOf)" ;;
    traceCall) body=$TRACE_BODY name="debug_traceCall callTracer (balanceOf)" ;;
    esac
    results=$(compare "$body")
    set -- $results
    a_rps=$1 a_p50=$2 a_p99=$3
    shift 3
    labels=$(echo $JSERVERS | awk '{ for (i = 1; i <= NF; i += 2) print $i }')
    for label in $labels; do
        j_rps=$1 j_p50=$2 j_p99=$3
        shift 3
        ratio=$(echo "$j_rps $a_rps" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "n/a" }')
        echo "$ratio" | awk '{ exit !($1 < 2) }' && MET=no
        suffix=
        [ "$label" != default ] && suffix=" ($label)"
        printf '| %s%s | %.0f | %s | %s | %.0f | %s | %s | %sx |\n' "$name" "$suffix" "$j_rps" "$j_p50" "$j_p99" "$a_rps" "$a_p50" "$a_p99" "$ratio"
    done
done
echo
if [ $MET = yes ]; then echo "target (jitevm at least 2x anvil on every row): met"
else echo "target (jitevm at least 2x anvil on every row): not met on every row"; fi
