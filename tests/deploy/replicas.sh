#!/bin/sh
# Three `jitevm serve` replicas behind nginx, then behind HAProxy (Debian's,
# run as this script's own processes on loopback ports with their own
# config, pid and log files; deploy/nginx.conf and deploy/haproxy.cfg with
# only the addresses and paths changed), under steady eth_call load from
# client loops, while one replica is SIGKILLed and restarted, one is
# SIGSTOPped (and continued), and all three switch to a new snapshot with
# SIGHUP. Passes when the client saw zero failed calls, every answer was
# one of the snapshots' values, every answer after the switch is the new
# value, the restarted replica served again once its /health said so, and
# a bad snapshot file given with SIGHUP is refused while serving goes on.
# Usage: replicas.sh JITEVM [nginx|haproxy]...
set -e
cd "$(dirname "$0")/../.."
. tests/deploy/lib.sh
JITEVM="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift
[ $# -gt 0 ] || set -- nginx haproxy
need_tools nginx:nginx-light haproxy:haproxy curl:curl
W="$DEPLOY_DIR/replicas"
rm -rf "$W"
mkdir -p "$W"
CLIENTS="${CLIENTS:-3}"
CALL='{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x00000000000000000000000000000000000d3e30","data":"0x"},"latest"]}'
OLD=000000000000000000000000000000000000000000000000000000000000002a
NEW=000000000000000000000000000000000000000000000000000000000000002b
pids=""
fail() { echo "test-deploy replicas: FAILED: $*" >&2; exit 1; }
cleanup() {
    for p in $pids; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
    for f in "$W"/*.pid "$W"/*/*.pid; do [ -f "$f" ] && { kill "$(cat "$f")" 2>/dev/null || true; }; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# The two snapshots: the demo state (slot 0 = 42), and the same with 43.
"$JITEVM" init --db "$W/snap-a.db" >/dev/null
"$JITEVM" import --db "$W/snap-a.db" --quiet deploy/demo-alloc.json >/dev/null
sed 's/002a"/002b"/' deploy/demo-alloc.json >"$W/alloc-b.json"
"$JITEVM" init --db "$W/snap-b.db" >/dev/null
"$JITEVM" import --db "$W/snap-b.db" --quiet "$W/alloc-b.json" >/dev/null

start_replica() { # N: replica N on its port, its database a symlink to its snapshot copy
    d="$W/r$1"
    port=$(eval echo "\$PORT$1")
    "$JITEVM" serve --db "$d/state.db" --listen "127.0.0.1:$port" --workers 2 --threads 2 \
        >>"$d/serve.log" 2>&1 &
    echo $! >"$d/serve.pid"
}
replica_pid() { cat "$W/r$1/serve.pid"; }
eth_calls() { # N: eth_calls answered by replica N so far
    curl -s -m 2 "http://127.0.0.1:$(eval echo "\$PORT$1")/metrics" |
        awk '/^jitevm_rpc_requests_total\{method="eth_call"/ {s += $2} END {print s + 0}'
}
switch_snapshot() { # N: a new copy of snapshot b, the symlink re-pointed by rename, SIGHUP
    d="$W/r$1"
    cp "$W/snap-b.db" "$d/snap-b.db"
    ln -s snap-b.db "$d/state.db.next" && mv -T "$d/state.db.next" "$d/state.db"
    kill -HUP "$(replica_pid "$1")"
}

client() { # OUT SECONDS: eth_calls through the balancer for SECONDS; one line each
    end=$(($(date +%s) + $2))
    while [ "$(date +%s)" -lt "$end" ]; do
        r=$(curl -s -m 30 -o - -w ' %{http_code}' -H 'Content-Type: application/json' --data "$CALL" "$LB_URL" || true)
        echo "$r"
    done >"$1"
}

run_round() { # LB
    lb=$1
    for n in 1 2 3; do
        eval "PORT$n=$(free_port)"
        mkdir -p "$W/r$n"
        rm -f "$W/r$n"/*.db* "$W/r$n/serve.log"
        cp "$W/snap-a.db" "$W/r$n/snap-a.db"
        ln -s snap-a.db "$W/r$n/state.db"
        start_replica $n
    done
    for n in 1 2 3; do wait_url "http://127.0.0.1:$(eval echo "\$PORT$n")/health" 20 || fail "replica $n did not start"; done
    LB_PORT=$(free_port)
    LB_URL="http://127.0.0.1:$LB_PORT/"
    servers=""
    case $lb in
    nginx) start_nginx "$W" "$LB_PORT" "$PORT1" "$PORT2" "$PORT3" ;;
    haproxy) start_haproxy "$W" "$LB_PORT" "$PORT1" "$PORT2" "$PORT3" ;;
    esac
    wait_url "${LB_URL}health" 10 || fail "$lb did not start (see $W)"
    sleep 1
    cpids=""
    for c in $(seq 1 "$CLIENTS"); do client "$W/$lb-client-$c.out" 26 & cpids="$cpids $!"; done
    sleep 3
    kill -KILL "$(replica_pid 1)"
    echo "  t=3s: replica 1 SIGKILLed"
    sleep 2
    start_replica 1
    wait_url "http://127.0.0.1:$PORT1/health" 20 || fail "replica 1 did not restart"
    before=$(eth_calls 1)
    echo "  t=5s: replica 1 restarted; its /health: $(curl -s "http://127.0.0.1:$PORT1/health")"
    sleep 2
    kill -STOP "$(replica_pid 2)"
    echo "  t=7s: replica 2 SIGSTOPped"
    sleep 10 # longer than the balancers' read timeout (7 s)
    kill -CONT "$(replica_pid 2)"
    echo "  t=17s: replica 2 continued"
    after=$(eth_calls 1)
    [ "$after" -gt "$before" ] || fail "$lb: the restarted replica 1 served nothing after its /health said ok ($before, $after)"
    echo "  replica 1 back in rotation: $((after - before)) eth_calls since its restart"
    sleep 2
    for n in 1 2 3; do switch_snapshot $n; done
    echo "  t=19s: all three replicas switched to the new snapshot (SIGHUP)"
    for n in 1 2 3; do
        i=0
        until curl -s "http://127.0.0.1:$(eval echo "\$PORT$n")/health" | grep -q '"snapshot":1'; do
            i=$((i + 1)); [ $i -lt 50 ] || fail "replica $n did not switch"; sleep 0.1
        done
    done
    for p in $cpids; do wait "$p"; done
    total=0 okc=0 failed=0 old=0 new=0
    cat "$W/$lb"-client-*.out >"$W/$lb-all.out"
    total=$(wc -l <"$W/$lb-all.out")
    old=$(grep -c "\"result\":\"0x$OLD\"} 200\$" "$W/$lb-all.out" || true)
    new=$(grep -c "\"result\":\"0x$NEW\"} 200\$" "$W/$lb-all.out" || true)
    failed=$((total - old - new))
    echo "  $lb: $total eth_calls by $CLIENTS clients: $((old + new)) answered ($old with the first snapshot, $new with the second), $failed failed"
    if [ "$failed" -ne 0 ]; then
        grep -v "\"result\":\"0x\\($OLD\\|$NEW\\)\"} 200\$" "$W/$lb-all.out" | sort | uniq -c | head -5
        fail "$lb: $failed failed eth_calls"
    fi
    case $lb in
    nginx) retried=$(grep -c '^[0-9]* [0-9.]* \[[^]]*, ' "$W/nginx-access.log" || true) ;;
    haproxy) retried=$(awk '$11 ~ /\/\+?[1-9][0-9]*$/' "$W/haproxy.log" | wc -l) ;; # httplog: conns/retries
    esac
    echo "  $lb: $retried of them were retried on another replica (its own log)"
    [ "$retried" -ge 1 ] || fail "$lb: no request needed a retry: the faults did not reach the balancer"
    [ "$total" -ge 100 ] || fail "$lb: only $total calls made"
    [ "$new" -ge 1 ] || fail "$lb: no answer from the new snapshot"
    # After the switch every replica answers with the new snapshot.
    for i in $(seq 1 30); do
        r=$(rpc "$LB_URL" "$CALL")
        [ "$r" = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x$NEW\"}" ] || fail "$lb: after the switch: $r"
    done
    for n in 1 2 3; do grep -q "SIGHUP: now serving" "$W/r$n/serve.log" || fail "replica $n: no switch in its log"; done
    # A bad snapshot (not a database) is refused: the replica keeps serving the current one.
    echo "not a database" >"$W/r1/snap-bad.db"
    ln -s snap-bad.db "$W/r1/state.db.next" && mv -T "$W/r1/state.db.next" "$W/r1/state.db"
    kill -HUP "$(replica_pid 1)"
    i=0
    until grep -q "SIGHUP: keeping the current database" "$W/r1/serve.log"; do
        i=$((i + 1)); [ $i -lt 50 ] || fail "replica 1 did not refuse a bad snapshot"; sleep 0.1
    done
    r=$(rpc "http://127.0.0.1:$PORT1/" "$CALL")
    [ "$r" = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x$NEW\"}" ] || fail "after a refused snapshot: $r"
    curl -s "http://127.0.0.1:$PORT1/health" | grep -q '"database":"open","snapshot":1}' || fail "replica 1's /health after a refused snapshot"
    echo "  a bad snapshot file was refused on SIGHUP: $(grep -o 'SIGHUP: keeping.*' "$W/r1/serve.log" | head -1 | cut -c1-110)"
    kill "$(cat "$W/lb.pid")"
    for n in 1 2 3; do kill -TERM "$(replica_pid $n)"; done
    wait 2>/dev/null || true
    rm -f "$W/lb.pid" "$W"/r*/serve.pid
    echo "test-deploy replicas ($lb): ok: 0 failed of $total"
}

for lb in "$@"; do
    echo "three replicas behind $lb"
    run_round "$lb"
done
