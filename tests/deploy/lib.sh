# Shared by the deployment tests (sourced): the podman wrapper with its own
# storage under build/, the test-only tools installed when missing, a free
# loopback port, waiting for a URL.
DEPLOY_DIR="${DEPLOY_DIR:-build/deploy}"
mkdir -p "$DEPLOY_DIR"
DEPLOY_DIR="$(cd "$DEPLOY_DIR" && pwd)"

# podman with storage under build/ (a rerun reuses the base images and the
# build cache; nothing of the host's container storage is touched); no
# systemd here: cgroupfs, events to a file.
pm() {
    podman --root "$DEPLOY_DIR/podman/root" --runroot "$DEPLOY_DIR/podman/run" \
        --cgroup-manager cgroupfs --events-backend file "$@"
}

# Test-only Debian packages (not build dependencies): installed here when
# a command is missing, as tests/bench-rpc.sh does with wrk.
need_tools() {
    missing=""
    for pair in "$@"; do
        cmd="${pair%%:*}" pkg="${pair#*:}"
        command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing="$missing $pkg"
    done
    [ -z "$missing" ] && return 0
    echo "installing test-only tools:$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + $$ % 20000))
}

# wait_url URL SECONDS: until URL answers 200 (any body), or fail.
wait_url() {
    i=0
    while [ $i -lt $(($2 * 10)) ]; do
        curl -fsS -m 1 -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

rpc() { # rpc URL JSON: the response body
    curl -sS -m 5 -H 'Content-Type: application/json' --data "$2" "$1"
}

# start_nginx DIR LB_PORT REPLICA_PORT...: deploy/nginx.conf with only the
# replicas' addresses, the listen address and this run's own pid, log
# (with each request's upstream tries) and temporary paths changed; nginx
# in the foreground as this shell's child, its pid in DIR/lb.pid.
start_nginx() {
    dir=$1 lport=$2
    shift 2
    awk -v ports="$*" -v lp="$lport" -v w="$dir" '
        /^events/ { print "pid " w "/nginx.pid;"; print "error_log " w "/nginx-error.log warn;" }
        /server jitevm:8545/ { n = split(ports, p, " "); line = $0
            for (i = 1; i <= n; i++) { l = line; sub(/jitevm:8545/, "127.0.0.1:" p[i], l); print l }
            next }
        /listen 8545/ { sub(/8545/, "127.0.0.1:" lp) }
        { print }
        /^http \{/ { print "    log_format tried \"$status $request_time [$upstream_addr] [$upstream_status]\";"
                     print "    access_log " w "/nginx-access.log tried;"
                     print "    client_body_temp_path " w "/nginx-tmp;"; print "    proxy_temp_path " w "/nginx-tmp;" }
    ' deploy/nginx.conf >"$dir/nginx.conf"
    mkdir -p "$dir/nginx-tmp"
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" -g 'daemon off;' &
    echo $! >"$dir/lb.pid"
}

# start_haproxy DIR LB_PORT REPLICA_PORT...: deploy/haproxy.cfg with the
# replicas as servers (instead of the DNS template), the listen address
# changed and the log (with retries) on stdout, into DIR/haproxy.log.
start_haproxy() {
    dir=$1 lport=$2
    shift 2
    awk -v ports="$*" -v lp="$lport" '
        /server-template/ { n = split(ports, p, " ")
            for (i = 1; i <= n; i++) print "    server jitevm-" i " 127.0.0.1:" p[i] " check"
            next }
        /^resolvers/ { skip = 1; next }
        skip && /^[^ ]/ { skip = 0 }
        skip { next }
        /bind :8545/ { sub(/:8545/, "127.0.0.1:" lp) }
        { print }
        /^global/ { print "    log stdout format raw local0" }
        /^defaults/ { print "    log global"; print "    option httplog" }
    ' deploy/haproxy.cfg >"$dir/haproxy.cfg"
    haproxy -f "$dir/haproxy.cfg" -c -q || { echo "haproxy -c rejects $dir/haproxy.cfg" >&2; return 1; }
    haproxy -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
    echo $! >"$dir/lb.pid"
}
