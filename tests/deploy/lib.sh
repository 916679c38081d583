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
