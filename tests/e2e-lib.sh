# Shared by the end-to-end scripts (tests/*-e2e.sh, bench-*.sh, soak.sh),
# sourced after NAME (the script's name, for messages) and JITEVM are set:
# a temporary directory with a cleanup trap, pass/fail counters, waiting
# for a server, anvil from npm (@foundry-rs/anvil, under build/anvil), a
# free loopback port, and JSON-RPC over curl. POSIX sh.
case $(uname -m) in x86_64) PLATFORM=linux-amd64 ;; aarch64) PLATFORM=linux-arm64 ;; *) PLATFORM=unknown ;; esac

# e2e_tmp TAG: TMP is a fresh directory; on EXIT/INT/TERM the servers in $SERVER_PID $JPID $APID $PIDS are killed and TMP removed.
e2e_tmp() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/jitevm-$1.XXXXXX")
    SERVER_PID= JPID= APID=
    trap e2e_cleanup EXIT INT TERM
}
# e2e_cleanup: kills whichever servers are still set and removes TMP.
e2e_cleanup() {
    for p in $SERVER_PID $JPID $APID $PIDS; do kill "$p" 2> /dev/null || true; done
    rm -rf "$TMP"
}

# install_anvil: ANVIL is anvil's binary, from npm under build/anvil (installed on first use).
install_anvil() {
    ANVIL_VERSION=${ANVIL_VERSION:-1.7.1}
    ANVIL_DIR=$(dirname "$JITEVM")/anvil
    ANVIL=$ANVIL_DIR/node_modules/@foundry-rs/anvil-$PLATFORM/bin/anvil
    if [ ! -x "$ANVIL" ]; then
        command -v npm > /dev/null || { echo "$NAME: FAILED: npm is needed to install anvil (apt-get install npm)"; exit 1; }
        echo "$NAME: installing @foundry-rs/anvil@$ANVIL_VERSION into $ANVIL_DIR"
        mkdir -p "$ANVIL_DIR"
        # The platform package carries the binary; the wrapper's install script is not needed.
        npm install --prefix "$ANVIL_DIR" --no-audit --no-fund --ignore-scripts --silent "@foundry-rs/anvil@$ANVIL_VERSION"
    fi
    [ -x "$ANVIL" ] || { echo "$NAME: FAILED: no anvil binary at $ANVIL"; exit 1; }
}

# install_clients: the client libraries, solc and anvil from npm under
# build/clients (CLIENTS_DIR; reinstalled when PACKAGES changes); sets ANVIL.
install_clients() {
    ANVIL_VERSION=${ANVIL_VERSION:-1.7.1}
    CLIENTS_DIR=$(dirname "$JITEVM")/clients
    PACKAGES="ethers@6.17.0 viem@2.57.20 solc@0.8.28 @foundry-rs/anvil@$ANVIL_VERSION"
    ANVIL=$CLIENTS_DIR/node_modules/@foundry-rs/anvil-$PLATFORM/bin/anvil
    stamp=$CLIENTS_DIR/installed
    if [ ! -x "$ANVIL" ] || [ "$(cat "$stamp" 2> /dev/null)" != "$PACKAGES" ]; then
        echo "$NAME: installing $PACKAGES into $CLIENTS_DIR"
        mkdir -p "$CLIENTS_DIR"
        # The platform package carries anvil's binary; no install scripts are needed.
        npm install --prefix "$CLIENTS_DIR" --no-audit --no-fund --ignore-scripts --silent $PACKAGES || exit 1
        echo "$PACKAGES" > "$stamp"
    fi
    [ -x "$ANVIL" ] || { echo "$NAME: no anvil binary at $ANVIL"; exit 1; }
}

# install_wrk: wrk from Debian when it is missing.
install_wrk() {
    command -v wrk > /dev/null && return 0
    SUDO=
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get install -y -qq wrk > /dev/null
}

# free_port [SALT]: a loopback port free now, chosen by the kernel (bound and
# released at once; another process may still take it before the caller, so
# callers that start a server on it retry on failure: start_with_anvil does).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_server LOG [PORT]: waits (30 s at most) for LOG's 'serving JSON-RPC on' and, with PORT, an answer on 127.0.0.1:PORT; sets SERVED_URL, SERVED_PORT.
wait_for_server() {
    i=0
    until grep -q 'serving JSON-RPC on' "$1" 2> /dev/null && { [ -z "$2" ] || curl -s -o /dev/null "http://127.0.0.1:$2/"; }; do
        i=$((i + 1))
        if [ $i -gt 600 ] || { [ -n "$SERVER_PID" ] && ! kill -0 "$SERVER_PID" 2> /dev/null; }; then
            echo "$NAME: the server did not start:"
            cat "$1"
            exit 1
        fi
        sleep 0.05
    done
    SERVED_URL=$(sed -n 's/.*serving JSON-RPC on \(http:[^ ]*\).*/\1/p' "$1" | head -1)/
    SERVED_PORT=$(sed -n 's/.*serving JSON-RPC on http:[^ ]*:\([0-9]*\).*/\1/p' "$1" | head -1)
}

# serve_db LOG ARGS...: jitevm serve on $DB at a free loopback port, its output in LOG; sets SERVER_PID, URL, PORT.
serve_db() {
    log=$1
    shift
    "$JITEVM" serve --db "$DB" --listen 127.0.0.1:0 "$@" > "$log" 2>&1 &
    SERVER_PID=$!
    wait_for_server "$log"
    URL=$SERVED_URL
    PORT=$SERVED_PORT
}

# stop_server: SIGTERM to the server started by serve_db; returns its exit status.
stop_server() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID"
    status=$?
    SERVER_PID=
    return $status
}

# dev_system_codes: "ADDRESS CODE" lines, one per contract the dev chain's
# genesis holds (the system contracts Prague blocks call: EIP-2935, 4788,
# 7002, 7251), to copy into a served database or anvil with anvil_setCode.
# Uses $JITEVM and $TMP/sys.db.
dev_system_codes() {
    "$JITEVM" init --db "$TMP/sys.db" --chain dev > /dev/null &&
        "$JITEVM" dump --db "$TMP/sys.db" | python3 -c 'import json, sys
for a, acct in json.load(sys.stdin).items():
    if "code" in acct: print(a, acct["code"])'
}

# prague_genesis FILE: writes a Prague chain (chain id 31337 as anvil's --hardfork prague; 30M block gas limit, 1 gwei base fee, no accounts).
prague_genesis() {
    cat > "$1" << JSON
{"config": {"chainId": 31337, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
            "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0,
            "berlinBlock": 0, "londonBlock": 0, "mergeNetsplitBlock": 0, "terminalTotalDifficulty": 0,
            "shanghaiTime": 0, "cancunTime": 0, "pragueTime": 0},
 "gasLimit": "0x1c9c380", "baseFeePerGas": "0x3b9aca00", "timestamp": "0x1",
 "alloc": {}}
JSON
}

# start_anvil: anvil (prague) on a free port, answering; sets APORT, APID,
# AURL. A port taken in between (anvil exits) or an anvil that never
# answers is retried on another port, three times at most.
start_anvil() {
    attempt=0
    while :; do
        attempt=$((attempt + 1))
        APORT=$(free_port)
        "$ANVIL" --port "$APORT" --hardfork prague --silent > "$TMP/anvil.log" 2>&1 &
        APID=$!
        i=0
        while kill -0 "$APID" 2> /dev/null && ! curl -s -o /dev/null "http://127.0.0.1:$APORT/"; do
            i=$((i + 1)); [ $i -gt 600 ] && break; sleep 0.05
        done
        curl -s -o /dev/null "http://127.0.0.1:$APORT/" && kill -0 "$APID" 2> /dev/null && break
        kill "$APID" 2> /dev/null; wait "$APID" 2> /dev/null
        if [ $attempt -ge 3 ]; then
            echo "$NAME: FAILED: anvil did not start on a free port (3 attempts):"
            cat "$TMP/anvil.log"
            exit 1
        fi
    done
    AURL=http://127.0.0.1:$APORT/
}

# start_with_anvil DB TOKEN SALT: jitevm serve --admin on DB and anvil (prague) on a free port, both up; sets JPID, APID, JURL, AURL.
start_with_anvil() {
    # Binding port 0 through the server would be simpler, but anvil prints
    # its port only in a banner; pick one that is free now.
    "$JITEVM" serve --db "$1" --listen 127.0.0.1:0 --admin --admin-token "$2" --log-level warn > "$TMP/jitevm.log" 2>&1 &
    JPID=$!
    wait_for_server "$TMP/jitevm.log"
    start_anvil
    JURL=$SERVED_URL
}

# pass / fail NAME [EXPECTED [GOT]] / check NAME FRAGMENT TEXT: count into PASSED and FAILED; check passes when TEXT contains FRAGMENT.
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); }
fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL: $1"
    [ -n "$2" ] && echo "  expected: $2"
    [ -n "$3" ] && echo "  got:      $3"
}
check() {
    case $3 in *"$2"*) pass ;; *) fail "$1" "$2" "$3" ;; esac
}

# post URL BODY / req METHOD PARAMS / result: JSON-RPC over curl; result prints a string result.
post() { curl -s --max-time 60 -H 'Content-Type: application/json' --data-binary "$2" "$1"; }
req() { printf '{"jsonrpc":"2.0","id":1,"method":"%s","params":%s}' "$1" "$2"; }
result() { sed -n 's/.*"result":"\([^"]*\)".*/\1/p'; }
