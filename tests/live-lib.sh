# Shared by tests/fork-e2e.sh and tests/bench-fork.sh (sourced, with JITEVM
# and NAME set): anvil from npm (@foundry-rs/anvil, under build/anvil as
# bench-rpc installs it; ANVIL is set to its binary), a free loopback port,
# and JSON-RPC over curl.
ANVIL_VERSION=${ANVIL_VERSION:-1.7.1}
ANVIL_DIR=$(dirname "$JITEVM")/anvil
case $(uname -m) in x86_64) PLATFORM=linux-amd64 ;; aarch64) PLATFORM=linux-arm64 ;; *) PLATFORM=unknown ;; esac
ANVIL=$ANVIL_DIR/node_modules/@foundry-rs/anvil-$PLATFORM/bin/anvil
if [ ! -x "$ANVIL" ]; then
    command -v npm > /dev/null || { echo "$NAME: FAILED: npm is needed to install anvil (apt-get install npm)"; exit 1; }
    echo "$NAME: installing @foundry-rs/anvil@$ANVIL_VERSION into $ANVIL_DIR"
    mkdir -p "$ANVIL_DIR"
    # The platform package carries the binary; the wrapper's install script is not needed.
    npm install --prefix "$ANVIL_DIR" --no-audit --no-fund --ignore-scripts --silent "@foundry-rs/anvil@$ANVIL_VERSION"
fi
[ -x "$ANVIL" ] || { echo "$NAME: FAILED: no anvil binary at $ANVIL"; exit 1; }

# free_port SALT: a loopback port nobody answers on now.
free_port() {
    p=$(( (($$ + $1) % 20000) + 30000 ))
    while curl -s -o /dev/null "http://127.0.0.1:$p/" 2> /dev/null; do p=$((p + 1)); done
    echo $p
}
post() { curl -s --max-time 60 -H 'Content-Type: application/json' --data-binary "$2" "$1"; }
req() { printf '{"jsonrpc":"2.0","id":1,"method":"%s","params":%s}' "$1" "$2"; }
result() { sed -n 's/.*"result":"\([^"]*\)".*/\1/p'; }
