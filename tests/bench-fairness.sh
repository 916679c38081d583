#!/bin/sh
# How evenly `jitevm serve` serves its connections: wrk's 32 kept-alive
# connections (2 threads) post a ~89k-gas eth_call for 5 s; 4 s in, the
# kernel's per-socket counters (ss: bytes_acked of each client socket)
# give the requests each connection got through. Prints the least, the
# median and the most, and most/least: under a closed-loop load the
# connections served least are the latency's tail. Not a test (no pass or
# fail): the figure behind the README's "Connections spread evenly".
#
# Usage: sh tests/bench-fairness.sh [path/to/jitevm] [THREADS]   (needs wrk and ss)
JITEVM=${1:-build/jitevm}
THREADS=${2:-8}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=bench-fairness
. "$(dirname "$0")/e2e-lib.sh"
command -v wrk > /dev/null || install_wrk
e2e_tmp fairness
DB=$TMP/fair.db
"$JITEVM" init --db "$DB" --chain "$HERE/data/hardening-genesis.json" > /dev/null 2>&1 || exit 1
serve_db "$TMP/server.log" --threads "$THREADS" --log-level error
BODY='{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c003"},"latest"]}'
cat > "$TMP/post.lua" << EOL
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$BODY'
EOL
wrk -t2 -c32 -d2s -s "$TMP/post.lua" "http://127.0.0.1:$PORT/" > /dev/null 2>&1 # warm-up: compiled by then
wrk -t2 -c32 -d5s -s "$TMP/post.lua" "http://127.0.0.1:$PORT/" > "$TMP/wrk.out" 2>&1 &
WRK=$!
sleep 4
ss -tin "dport = :$PORT" | grep -o 'bytes_acked:[0-9]*' | cut -d: -f2 | sort -n > "$TMP/per_conn"
wait $WRK
stop_server
REQ=$(printf 'POST / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' "$PORT" ${#BODY} "$BODY" | wc -c)
awk -v req="$REQ" -v t="$THREADS" 'NR == FNR {a[NR] = $1 / req; n = NR; next}
    END {printf "bench-fairness: --threads %s, %d connections: requests per connection: least %.0f, median %.0f, most %.0f (most/least %.1f)\n",
         t, n, a[1], a[int((n + 1) / 2)], a[n], a[n] / (a[1] > 0 ? a[1] : 1)}' "$TMP/per_conn" "$TMP/per_conn"
