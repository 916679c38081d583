#!/bin/sh
# Live mode against `anvil --fork-url`, side by side in one run, both in
# front of the same upstream (a third anvil on loopback holding the
# contracts, deployed with transactions). For a balanceOf (1 SLOAD) and a
# call reading 300 slots: the cold first call (BENCH_COLD_ROUNDS rounds,
# each on a fresh jitevm database and a fresh anvil: median, min and max),
# the first call after a restart of each server, and the warm rate (wrk, 2
# threads, 32 connections, best of BENCH_ROUNDS runs alternating). Also the
# upstream round trips jitevm made for the cold calls (its metrics). anvil
# runs with --no-storage-caching: its fork cache is in memory, lost on
# restart.
#
# The cold rounds treat every server alike: all are started together, then
# left BENCH_SETTLE seconds (anvil fetches its dev accounts from the
# upstream after it answers: that must not overlap a timed call), each gets
# one untimed eth_chainId, and the order in which they are timed rotates
# from round to round (no server always first on the upstream or the CPU).
# BENCH_BASE=path/to/other/jitevm adds that binary as a third server in the
# same rounds (its own fresh database): an A/B under the same conditions.
#
# The warm rounds also load tests/loopback_ceiling.c (CEILING, built by
# `make bench-fork`), a server that answers every request without doing
# anything: wrk shares the CPUs with the server, and on a small machine
# most of a request's time is the kernel's loopback TCP on both sides, so
# no server can answer faster than it. Its rate bounds every warm figure
# (and any ratio against anvil's) on this machine.
#
# Each warm run also reads the server's CPU time (all its threads, from
# /proc/PID/stat) and prints it per request: the cost that decides a
# server's rate once it has CPUs of its own. Then the warm rounds run again
# with one CPU each (when there are 2 and taskset): wrk on CPU 0, each
# server restarted alone on CPU 1.
#
# Usage: sh tests/bench-fork.sh [path/to/jitevm]
# Environment: BENCH_SECONDS (default 5), BENCH_ROUNDS (default 3),
# BENCH_COLD_ROUNDS (default 11), BENCH_SETTLE (default 1), BENCH_BASE,
# ANVIL_VERSION.
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
COLD_ROUNDS=${BENCH_COLD_ROUNDS:-11}
SETTLE=${BENCH_SETTLE:-1}
BASE=${BENCH_BASE:-}
CEILING=${CEILING:-$(dirname "$JITEVM")/tests/loopback-ceiling}
[ -x "$CEILING" ] || { echo "bench-fork: $CEILING is missing (make build/tests/loopback-ceiling, or run make bench-fork)"; exit 1; }
case $BASE in /* | '') ;; *) BASE=$(pwd)/$BASE ;; esac
set -e
NAME=bench-fork
. "$(dirname "$0")/e2e-lib.sh"
install_wrk
install_anvil
e2e_tmp bench-fork
PIDS=

wait_url() { i=0; until curl -s -o /dev/null "$1"; do i=$((i + 1)); [ $i -gt 1200 ] && { echo "bench-fork: $1 did not start in 60 s"; exit 1; }; sleep 0.05; done; }

# ---- the upstream with the contracts
UPORT=$(free_port 21)
"$ANVIL" --port "$UPORT" --hardfork prague --silent > "$TMP/upstream.log" 2>&1 & PIDS="$PIDS $!"
UURL=http://127.0.0.1:$UPORT/
wait_url "$UURL"
FROM=0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266
deploy() {
    h=$(post "$UURL" "$(req eth_sendTransaction "[{\"from\":\"$FROM\",\"data\":\"$1\",\"gas\":\"0xf00000\"}]")" | result)
    post "$UURL" "$(req eth_getTransactionReceipt "[\"$h\"]")" | sed -n 's/.*"contractAddress":"\(0x[0-9a-f]*\)".*/\1/p'
}
# The token of tests/fork-e2e.sh (all of 10^24 to the deployer).
TOKEN=$(deploy 0x69d3c21bcecceda10000008060015533600052600060205260406000205560928060296000396000f360003560e01c806370a082311461002b578063a9059cbb1461005157806318160ddd1461004557600080fd5b600435600052600060205260406000205460005260206000f35b60015460005260206000f35b336000526000602052604060002080546024358082101561007157600080fd5b80820383556004356000526040600020805482019055600160005260206000f3)
# Slots 1..300 hold 1..300 (the constructor's loop); the runtime returns
# their sum (300 SLOADs).
SUMMER=$(deploy 0x61012c5b808055600190038060035750601d80601b6000396000f3600061012c5b80548201915060019003806005575060005260206000f3)
[ -n "$TOKEN" ] && [ -n "$SUMMER" ] || { echo "bench-fork: deploying failed"; exit 1; }
FROM_WORD=000000000000000000000000${FROM#0x}
BAL_BODY=$(req eth_call "[{\"to\":\"$TOKEN\",\"data\":\"0x70a08231$FROM_WORD\"},\"latest\"]")
SUM_BODY=$(req eth_call "[{\"to\":\"$SUMMER\"},\"latest\"]")

# ---- the two servers in front of it
prague_genesis "$TMP/genesis.json"
APORT=$(free_port 23)
JPID= APID= BPID=
start_both() {
    # A fresh log: the wait below must not read the last run's (the shell
    # truncates the file only once the new process runs).
    rm -f "$TMP/jitevm.log"
    $SERVER_PIN "$JITEVM" serve --db "$TMP/live.db" --listen 127.0.0.1:0 --log-level warn > "$TMP/jitevm.log" 2>&1 &
    JPID=$!
    $SERVER_PIN "$ANVIL" --fork-url "$UURL" --no-storage-caching --port "$APORT" --silent > "$TMP/anvil.log" 2>&1 &
    APID=$!
    wait_for_server "$TMP/jitevm.log"
    JURL=$SERVED_URL
    AURL=http://127.0.0.1:$APORT/
    wait_url "$AURL"
}
# start_base: the BENCH_BASE server on its own database (base.db).
start_base() {
    rm -f "$TMP/base.log"
    "$BASE" serve --db "$TMP/base.db" --listen 127.0.0.1:0 --log-level warn > "$TMP/base.log" 2>&1 &
    BPID=$! SERVER_PID=$! # SERVER_PID: killed by the exit trap
    wait_for_server "$TMP/base.log"
    BURL=$SERVED_URL
}
stop_both() { kill "$JPID" "$APID"; wait "$JPID" "$APID" 2> /dev/null || true; }
stop_base() { [ -z "$BPID" ] || { kill "$BPID"; wait "$BPID" 2> /dev/null || true; BPID= SERVER_PID=; }; }
# timed URL BODY: milliseconds of one call (its answer in $TMP/out).
timed() { curl -s -o "$TMP/out" -w '%{time_total}' --max-time 60 -H 'Content-Type: application/json' --data-binary "$2" "$1" | awk '{printf "%.2f", $1 * 1000}'; }
want_bal=$(post "$UURL" "$BAL_BODY" | result)
want_sum=$(post "$UURL" "$SUM_BODY" | result)
check() { got=$(result < "$TMP/out"); [ "$got" = "$1" ] || { echo "bench-fork: $2 answered '$got', the upstream '$1'"; exit 1; }; }

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# ratios A B: the per-round ratios of two lists of the same rounds (a round
# slowed for both by the machine's load cancels out), then their median.
ratios() { echo "$1|$2" | awk -F'|' '{ n = split($1, a, " "); split($2, b, " "); for (i = 1; i <= n; i++) printf "%.3f ", a[i] / b[i] }' | median; }
# spread LIST: "min-max".
spread() { tr ' ' '\n' | grep . | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }
# The cold calls, each round on fresh databases and a fresh anvil, the
# servers timed in an order that rotates (j: jitevm, a: anvil, b: BENCH_BASE).
# cold_one WHO: times WHO's balanceOf then its sum300 (both cold).
cold_one() {
    case $1 in j) u=$JURL ;; a) u=$AURL ;; b) u=$BURL ;; esac
    v=$(timed "$u" "$BAL_BODY"); check "$want_bal" "$1 balanceOf"; eval "l_${1}c_bal=\"\$l_${1}c_bal $v\""
    v=$(timed "$u" "$SUM_BODY"); check "$want_sum" "$1 sum300"; eval "l_${1}c_sum=\"\$l_${1}c_sum $v\""
}
l_jc_bal= l_ac_bal= l_jc_sum= l_ac_sum= l_bc_bal= l_bc_sum= r=0
WHO="j a" && [ -n "$BASE" ] && WHO="j a b"
while [ $r -lt "$COLD_ROUNDS" ]; do
    rm -f "$TMP"/live.db* "$TMP"/base.db*
    "$JITEVM" init --db "$TMP/live.db" --fork-url "$UURL" --chain "$TMP/genesis.json" > /dev/null
    [ -z "$BASE" ] || "$BASE" init --db "$TMP/base.db" --fork-url "$UURL" --chain "$TMP/genesis.json" > /dev/null
    start_both
    [ -z "$BASE" ] || start_base
    sleep "$SETTLE"
    # A first request of each kind that touches no contract: connections and
    # threads are warm before the cold calls are timed.
    timed "$JURL" "$(req eth_chainId '[]')" > /dev/null
    timed "$AURL" "$(req eth_chainId '[]')" > /dev/null
    [ -z "$BASE" ] || timed "$BURL" "$(req eth_chainId '[]')" > /dev/null
    # This round's order: WHO rotated r times.
    order=$WHO k=0
    while [ $k -lt $((r % $(echo $WHO | wc -w))) ]; do order="${order#* } ${order%% *}"; k=$((k + 1)); done
    for w in $order; do cold_one "$w"; done
    trips=$(curl -s "${JURL}metrics" | awk '$1 == "jitevm_upstream_requests_total" { print $2 }')
    r=$((r + 1))
    stop_base
    [ $r -lt "$COLD_ROUNDS" ] && stop_both
done
jc_bal=$(echo "$l_jc_bal" | median) ac_bal=$(echo "$l_ac_bal" | median)
jc_sum=$(echo "$l_jc_sum" | median) ac_sum=$(echo "$l_ac_sum" | median)

# once URL BODY PID [SECONDS]: one wrk run (SECONDS_PER_RUN long unless
# given); prints its rate (req/s) and the CPU time the server (PID, all its
# threads: /proc/PID/stat utime + stime) spent per request in it, in
# microseconds. WRK_PIN: a prefix for wrk (taskset).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
once() {
    printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' "$2" > "$TMP/req.lua"
    t0=$(cpu_ticks "$3")
    $WRK_PIN wrk -t2 -c32 -d"${4:-$SECONDS_PER_RUN}s" -s "$TMP/req.lua" "$1" > "$TMP/wrk.out" 2>&1 || true
    t1=$(cpu_ticks "$3")
    n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$TMP/wrk.out")
    rate=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$TMP/wrk.out")
    echo "${rate:-0} $t0 $t1 ${n:-0}" | awk -v tick="$TICK_US" '{ printf "%s %.1f\n", $1, ($4 > 0 ? ($3 - $2) * tick / $4 : 0) }'
}
start_ceiling() {
    rm -f "$TMP/ceiling.log"
    $SERVER_PIN "$CEILING" > "$TMP/ceiling.log" 2>&1 &
    CPID=$! PIDS="$PIDS $!"
    i=0
    until grep -q 'listening on' "$TMP/ceiling.log"; do i=$((i + 1)); [ $i -gt 100 ] && { echo "bench-fork: the ceiling server did not start:"; cat "$TMP/ceiling.log"; exit 1; }; sleep 0.05; done
    CURL_CEILING=http://$(sed -n 's/^listening on \([0-9.:]*\).*/\1/p' "$TMP/ceiling.log")/
}
# warm_rounds SUFFIX: ROUNDS alternating runs of wrk on each server and
# call; keeps each one's best rate in w<server>_<call>SUFFIX and the median
# of its CPU per request in c<server>_<call>SUFFIX.
warm_rounds() {
    l_jb= l_ab= l_cb= l_js= l_as= jb=0 ab=0 cb=0 js=0 as=0 r=0
    while [ $r -lt "$ROUNDS" ]; do
        for k in jb ab cb js as; do
            case $k in
            j?) u=$JURL p=$JPID ;;
            a?) u=$AURL p=$APID ;;
            c?) u=$CURL_CEILING p=$CPID ;;
            esac
            case $k in ?b) body=$BAL_BODY ;; ?s) body=$SUM_BODY ;; esac
            o=$(once "$u" "$body" "$p")
            eval "best=\$$k; l_$k=\"\$l_$k ${o#* }\""
            eval "$k=$(echo "$best ${o%% *}" | awk '{ print ($2 > $1) ? $2 : $1 }')"
        done
        r=$((r + 1))
    done
    for k in jb ab cb js as; do
        eval "w${k}$1=\$$k c${k}$1=\$(echo \"\$l_$k\" | median)"
    done
}
WRK_PIN= SERVER_PIN=
start_ceiling
warm_rounds ""
stop_both
start_both
jr_bal=$(timed "$JURL" "$BAL_BODY"); check "$want_bal" "jitevm balanceOf after restart"
ar_bal=$(timed "$AURL" "$BAL_BODY"); check "$want_bal" "anvil balanceOf after restart"
jr_sum=$(timed "$JURL" "$SUM_BODY"); check "$want_sum" "jitevm sum300 after restart"
ar_sum=$(timed "$AURL" "$SUM_BODY"); check "$want_sum" "anvil sum300 after restart"
rtrips=$(curl -s "${JURL}metrics" | awk '$1 == "jitevm_upstream_requests_total" { print $2 }')
stop_both

# The warm rounds again with one CPU each: wrk on CPU 0, every server alone
# on CPU 1 (started there: anvil's runtime and the ceiling size their
# threads to it). Sharing the CPUs, a server that needs less CPU leaves
# more to wrk, and past a point wrk and the kernel's loopback TCP decide
# the rate; given the same single CPU each, the rate is the server's own.
PINNED=
if [ "$(nproc)" -ge 2 ] && command -v taskset > /dev/null; then
    PINNED=1
    kill "$CPID"; wait "$CPID" 2> /dev/null || true
    WRK_PIN="taskset -c 0" SERVER_PIN="taskset -c 1"
    start_both
    start_ceiling
    # Untimed, a second each: jitevm loads its program, anvil refetches
    # what its restart lost.
    for body in "$BAL_BODY" "$SUM_BODY"; do
        once "$JURL" "$body" "$JPID" 1 > /dev/null
        once "$AURL" "$body" "$APID" 1 > /dev/null
    done
    warm_rounds _pin
    stop_both
fi

echo "jitevm $("$JITEVM" version | cut -d' ' -f2) vs $("$ANVIL" --version | head -1) --fork-url, same loopback upstream; cold: median of $COLD_ROUNDS rounds (order rotating, ${SETTLE} s settle after start); wrk -t2 -c32 -d${SECONDS_PER_RUN}s best of $ROUNDS alternating; $(nproc) CPUs"
echo "cold rounds ms (in round order): jitevm balanceOf$l_jc_bal; anvil balanceOf$l_ac_bal; jitevm sum300$l_jc_sum; anvil sum300$l_ac_sum"
echo "cold min-max ms: jitevm balanceOf $(echo "$l_jc_bal" | spread), anvil balanceOf $(echo "$l_ac_bal" | spread), jitevm sum300 $(echo "$l_jc_sum" | spread), anvil sum300 $(echo "$l_ac_sum" | spread)"
if [ -n "$BASE" ]; then
    echo "BENCH_BASE $BASE cold rounds ms: balanceOf$l_bc_bal; sum300$l_bc_sum"
    echo "cold medians ms, this vs BENCH_BASE: balanceOf $(echo "$l_jc_bal" | median) vs $(echo "$l_bc_bal" | median) ($(echo "$l_bc_bal" | spread)), sum300 $(echo "$l_jc_sum" | median) vs $(echo "$l_bc_sum" | median) ($(echo "$l_bc_sum" | spread))"
fi
printf '\n| call | server | cold first call ms | warm req/s | CPU us per request | warm req/s, one CPU each | CPU us per request, one CPU each | first call after restart ms |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
row() { printf '| %s | %s | %s | %.0f | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" "${7:-}" "$8"; }
pin() { [ -n "$PINNED" ] && printf '%.0f' "$1"; }
row "balanceOf (1 slot)" jitevm "$jc_bal" "$wjb" "$cjb" "$(pin "$wjb_pin")" "${cjb_pin:-}" "$jr_bal"
row "balanceOf (1 slot)" "anvil --fork-url" "$ac_bal" "$wab" "$cab" "$(pin "$wab_pin")" "${cab_pin:-}" "$ar_bal"
row "sum of 300 slots" jitevm "$jc_sum" "$wjs" "$cjs" "$(pin "$wjs_pin")" "${cjs_pin:-}" "$jr_sum"
row "sum of 300 slots" "anvil --fork-url" "$ac_sum" "$was" "$cas" "$(pin "$was_pin")" "${cas_pin:-}" "$ar_sum"
row "(any request)" "loopback ceiling: answers, does nothing" "" "$wcb" "$ccb" "$(pin "$wcb_pin")" "${ccb_pin:-}" ""
echo
echo "jitevm upstream HTTP requests: $trips for both cold calls (last round); $rtrips after the restart"
echo "$wjb $wab $wjs $was" | awk '{ printf "warm ratio jitevm/anvil, sharing the CPUs with wrk: balanceOf %.1fx, sum300 %.1fx (target 5x)\n", $1 / ($2 > 0 ? $2 : 1), $3 / ($4 > 0 ? $4 : 1) }'
echo "$wjb $wab $wcb" | awk '{ printf "loopback ceiling %.0f req/s (wrk on the same CPUs): jitevm balanceOf at %.0f%% of it, anvil at %.0f%%; 5x anvil is %.0f req/s, %s\n", $3, 100 * $1 / $3, 100 * $2 / $3, 5 * $2, (5 * $2 > $3) ? "above what any server answers here" : "within it" }'
if [ -n "$PINNED" ]; then
    echo "$wjb_pin $wab_pin $wjs_pin $was_pin $wcb_pin" | awk '{ printf "warm ratio jitevm/anvil, one CPU each (wrk on CPU 0, the server on CPU 1): balanceOf %.1fx, sum300 %.1fx (target 5x); ceiling %.0f req/s, jitevm balanceOf at %.0f%% of it\n", $1 / ($2 > 0 ? $2 : 1), $3 / ($4 > 0 ? $4 : 1), $5, 100 * $1 / ($5 > 0 ? $5 : 1) }'
else
    echo "one CPU each: not measured (needs 2 CPUs and taskset)"
fi
echo "$cjb $cab $cjs $cas" | awk '{ printf "server CPU per request, sharing (median of the rounds): balanceOf jitevm %s us, anvil %s us (%.1fx less); sum300 jitevm %s us, anvil %s us (%.1fx less)\n", $1, $2, $2 / ($1 > 0 ? $1 : 1), $3, $4, $4 / ($3 > 0 ? $3 : 1) }'
echo "$jc_bal $ac_bal $jc_sum $ac_sum" | awk '{ printf "cold ratio jitevm/anvil: balanceOf %.2f, sum300 %.2f (target 1.5 or less)\n", $1 / $2, $3 / $4 }'
echo "cold ratio jitevm/anvil, median of the per-round ratios: balanceOf $(ratios "$l_jc_bal" "$l_ac_bal"), sum300 $(ratios "$l_jc_sum" "$l_ac_sum")"
[ -z "$BASE" ] || echo "cold ratio this/BENCH_BASE, median of the per-round ratios: balanceOf $(ratios "$l_jc_bal" "$l_bc_bal"), sum300 $(ratios "$l_jc_sum" "$l_bc_sum")"
