#!/bin/sh
# `make bench-scale`: eth_call throughput through the load balancer (nginx
# with deploy/nginx.conf) with 1, 2 and 3 jitevm replicas, and straight to
# one replica for reference, in one run, side by side. wrk (Debian) drives
# it: 2 threads, 32 connections, SCALE_SECONDS (default 5) per row.
# On a 2-core machine the replicas, nginx and wrk share those 2 cores, so
# more replicas cannot add throughput here: the rows show what the balancer
# costs and that spreading over replicas loses nothing; on machines with a
# core per replica the rows would grow with the replicas.
set -e
cd "$(dirname "$0")/../.."
. tests/deploy/lib.sh
JITEVM="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
need_tools nginx:nginx-light wrk:wrk curl:curl
SECS="${SCALE_SECONDS:-5}"
W="$DEPLOY_DIR/bench-scale"
rm -rf "$W"
mkdir -p "$W"
cleanup() { for f in "$W"/*.pid; do [ -f "$f" ] && { kill "$(cat "$f")" 2>/dev/null || true; }; done; wait 2>/dev/null || true; }
trap cleanup EXIT
"$JITEVM" init --db "$W/snap.db" >/dev/null
"$JITEVM" import --db "$W/snap.db" --quiet deploy/demo-alloc.json >/dev/null
ports=""
for n in 1 2 3; do
    cp "$W/snap.db" "$W/r$n.db"
    p=$(free_port)
    "$JITEVM" serve --db "$W/r$n.db" --listen "127.0.0.1:$p" >"$W/r$n.log" 2>&1 &
    echo $! >"$W/r$n.pid"
    wait_url "http://127.0.0.1:$p/health" 20 || { echo "bench-scale: replica $n did not start" >&2; exit 1; }
    ports="$ports $p"
done
printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' \
    '{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x00000000000000000000000000000000000d3e30","data":"0x"},"latest"]}' \
    >"$W/req.lua"
run() { # URL: "req/s errors"
    wrk -t2 -c32 -d"${SECS}s" -s "$W/req.lua" "$1" >"$W/wrk.out" 2>&1
    rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$W/wrk.out")
    errs=$(grep -E 'Non-2xx|Socket errors' "$W/wrk.out" | tr -s ' ' | tr '\n' ' ')
    echo "${rps:-0} ${errs:-none}"
}
echo "eth_call (demo contract), wrk -t2 -c32 -d${SECS}s; $(nproc) CPUs shared by wrk, nginx and the replicas"
printf '| %-34s | %10s | %s |\n' "setup" "requests/s" "errors"
printf '| %-34s | %10s | %s |\n' "----------------------------------" "----------" "------"
first=$(echo $ports | cut -d' ' -f1)
set -- $(run "http://127.0.0.1:$first/")
printf '| %-34s | %10s | %s |\n' "1 replica, no load balancer" "$1" "$2"
for n in 1 2 3; do
    lbp=$(free_port)
    mkdir -p "$W/lb$n"
    start_nginx "$W/lb$n" "$lbp" $(echo $ports | cut -d' ' -f1-$n)
    mv "$W/lb$n/lb.pid" "$W/lb.pid"
    wait_url "http://127.0.0.1:$lbp/health" 10 || { echo "bench-scale: nginx did not start" >&2; exit 1; }
    set -- $(run "http://127.0.0.1:$lbp/")
    printf '| %-34s | %10s | %s |\n' "nginx, $n replica(s)" "$1" "$2"
    kill "$(cat "$W/lb.pid")"
    wait "$(cat "$W/lb.pid")" 2>/dev/null || true
    rm -f "$W/lb.pid"
done
