#!/bin/sh
# eth_simulateV1 against geth's own answers: the ethereum/execution-apis
# test vectors (tests/eth_simulateV1/*.io), run on a jitevm made from that
# repository's genesis and head chain (its headers imported with
# `import --head`: the head's number, timestamp, fees, gas used and the
# block hashes; the state is the genesis alloc, not what the chain's
# transactions did). Prints each vector's differing fields and
# "agree N of M". Not part of `make test`: it needs an execution-apis
# checkout, which the tests do not carry.
#
# Usage: sh tests/simulate-vectors.sh EXECUTION_APIS_DIR [path/to/jitevm]
APIS=$1
JITEVM=${2:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
if [ -z "$APIS" ] || [ ! -d "$APIS/tests/eth_simulateV1" ]; then
    echo "simulate-vectors: SKIPPED: no execution-apis checkout given (usage: $0 EXECUTION_APIS_DIR)"
    exit 0
fi
NAME=simulate-vectors
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/e2e-lib.sh"
e2e_tmp vectors
DB=$TMP/db
"$JITEVM" init --db "$DB" --chain "$APIS/tests/genesis.json" > "$TMP/init.log" 2>&1 || { cat "$TMP/init.log"; exit 1; }
serve_db "$TMP/serve0.log"
python3 "$HERE/simulate/chain_headers.py" "$APIS/tests/chain.rlp" "$URL" > "$TMP/headers.json" || exit 1
stop_server
"$JITEVM" import --db "$DB" --head "$TMP/headers.json" > "$TMP/import.log" 2>&1 || { cat "$TMP/import.log"; exit 1; }
serve_db "$TMP/serve.log"
python3 "$HERE/simulate/compare_vectors.py" "$URL" "$APIS/tests/eth_simulateV1"
