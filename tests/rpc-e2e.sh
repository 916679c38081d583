#!/bin/sh
# End-to-end tests of `jitevm serve`: the real binary on a free loopback
# port, driven over HTTP with curl. Covers every method, every error code,
# batches, overrides, the gas cap, the per-call timeout, admin auth, the
# body and batch limits, the worker queue limit, health/metrics/CORS, a
# table of malformed requests, a graceful shutdown with requests in
# flight, and the compiler tier (tiered execution, compiled programs kept
# across a restart and refused under another key, the engine flags).
# Ends with "N passed, N failed"; exit status 1 when any failed.
#
# Usage: sh tests/rpc-e2e.sh [path/to/jitevm]
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
command -v curl > /dev/null || { echo "rpc-e2e: curl is needed"; exit 1; }
[ -x "$JITEVM" ] || { echo "rpc-e2e: no binary at $JITEVM"; exit 1; }

NAME=rpc-e2e
. "$(dirname "$0")/e2e-lib.sh"
e2e_tmp e2e

check_eq() {
    if [ "$2" = "$3" ]; then pass; else fail "$1" "$2" "$3"; fi
}

# ------------------------------------------------------------ contracts
SENDER=0x00000000000000000000000000000000000000aa
POOR=0x00000000000000000000000000000000000000cc
READER=0x000000000000000000000000000000000000c000   # return sload(calldataload(0)); slot 1 = 0x2a
REVERTER=0x000000000000000000000000000000000000c001 # revert Error("boom")
PANICKER=0x000000000000000000000000000000000000c002 # revert Panic(0x01)
LOOP=0x000000000000000000000000000000000000c003     # 1000 iterations, ~89k gas
FOREVER=0x000000000000000000000000000000000000c004  # jumps to itself
ACCESSOR=0x000000000000000000000000000000000000c005 # sload(1); balance(0xcafe)
BLOCKINFO=0x000000000000000000000000000000000000c006 # return basefee, number, gaslimit
INVALID=0x000000000000000000000000000000000000c007  # 0xfe
TOKEN=0x000000000000000000000000000000000000c008    # ERC-20-like balanceOf(address): one SLOAD
SLOW=0x000000000000000000000000000000000000c009     # counts 6,000,000 down (~156M gas), returns 1
HOLDER_WORD=000000000000000000000000000000000000000000000000000000000000beef
# keccak256(HOLDER_WORD . 0): the holder's balance slot in a Solidity mapping at slot 0
HOLDER_SLOT=0xf795696b84ec505a06e455ed35745d482b1c95debff7502f2dfa10a8a8820138
W1=0x0000000000000000000000000000000000000000000000000000000000000001
W2=0x0000000000000000000000000000000000000000000000000000000000000002

cat > "$TMP/genesis.json" << EOF
{
  "config": {"chainId": 1337, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
             "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0,
             "berlinBlock": 0, "londonBlock": 0, "mergeNetsplitBlock": 0, "terminalTotalDifficulty": 0,
             "shanghaiTime": 0, "cancunTime": 0, "pragueTime": 0},
  "number": "0x1", "timestamp": "0x3e8", "gasLimit": "0x1c9c380", "baseFeePerGas": "0x7",
  "coinbase": "0x00000000000000000000000000000000000000c0", "difficulty": "0x0",
  "alloc": {
    "$SENDER": {"balance": "0xde0b6b3a7640000"},
    "$READER": {"code": "0x6000355460005260206000f3", "storage": {"$W1": "0x000000000000000000000000000000000000000000000000000000000000002a"}},
    "$REVERTER": {"code": "0x6064600c60003960646000fd08c379a000000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000004626f6f6d00000000000000000000000000000000000000000000000000000000"},
    "$PANICKER": {"code": "0x6024600c60003960246000fd4e487b710000000000000000000000000000000000000000000000000000000000000001"},
    "$LOOP": {"code": "0x6103e860005b5850601f02810180600052600051019060019003908160055760005260206000f3"},
    "$FOREVER": {"code": "0x5b600056"},
    "$ACCESSOR": {"code": "0x6001545073000000000000000000000000000000000000cafe315000"},
    "$BLOCKINFO": {"code": "0x48600052436020524560405260606000f3"},
    "$INVALID": {"code": "0xfe"},
    "$TOKEN": {"code": "0x60003560e01c6370a0823114601357600080fd5b600435600052600060205260406000205460005260206000f3",
               "storage": {"$HOLDER_SLOT": "0x00000000000000000000000000000000000000000000000000000000000f4240"}},
    "$SLOW": {"code": "0x63005b8d805b6001900380600557600160005260206000f3"}
  }
}
EOF
DB=$TMP/e2e.db
if ! "$JITEVM" init --db "$DB" --chain "$TMP/genesis.json" > "$TMP/init.log" 2>&1; then
    echo "rpc-e2e: jitevm init failed:"
    cat "$TMP/init.log"
    exit 1
fi

# ------------------------------------------------------------ servers

# start_server LOG ARGS...: a server on a free port (serve_db); sets URL, SERVER_PID.
start_server() { serve_db "$@"; }

rpc() { curl -s -H 'Content-Type: application/json' --data-binary "$1" "$URL"; }
rpc_auth() { curl -s -H 'Content-Type: application/json' -H "Authorization: Bearer $1" --data-binary "$2" "$URL"; }
req() { printf '{"jsonrpc":"2.0","id":1,"method":"%s","params":%s}' "$1" "$2"; }
# ok NAME METHOD PARAMS RESULT: the result is RESULT (a JSON value).
ok() { check "$1" "\"result\":$4}" "$(rpc "$(req "$2" "$3")")"; }
# err NAME METHOD PARAMS FRAGMENT: the error object contains FRAGMENT.
err() { check "$1" "$4" "$(rpc "$(req "$2" "$3")")"; }

# ============================================================ main server
TOKEN_VALUE=e2e-secret-token-of-at-least-128-bits
start_server "$TMP/main.log" --admin --admin-token "$TOKEN_VALUE" --workers 2 --log-level debug
MAIN_URL=$URL
check "startup line names the database" "database $DB: schema v" "$(cat "$TMP/main.log")"
check "startup line shows the config" "gas-cap=50000000 call-timeout=5s" "$(cat "$TMP/main.log")"

# ---- every method
ok "eth_chainId" eth_chainId '[]' '"0x539"'
ok "net_version" net_version '[]' '"1337"'
check "web3_clientVersion" '"result":"jitevm/v' "$(rpc "$(req web3_clientVersion '[]')")"
ok "web3_sha3" web3_sha3 '["0x68656c6c6f"]' '"0x1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8"'
ok "eth_blockNumber" eth_blockNumber '[]' '"0x1"'
ok "eth_gasPrice (tip + base fee)" eth_gasPrice '[]' '"0x3b9aca07"'
ok "eth_maxPriorityFeePerGas" eth_maxPriorityFeePerGas '[]' '"0x3b9aca00"'
ok "eth_blobBaseFee" eth_blobBaseFee '[]' '"0x1"'
ok "eth_getBalance" eth_getBalance "[\"$SENDER\",\"latest\"]" '"0xde0b6b3a7640000"'
ok "eth_getBalance of nobody" eth_getBalance "[\"$POOR\"]" '"0x0"'
ok "eth_getCode" eth_getCode "[\"$INVALID\",\"latest\"]" '"0xfe"'
ok "eth_getStorageAt" eth_getStorageAt "[\"$READER\",\"0x1\",\"latest\"]" '"0x000000000000000000000000000000000000000000000000000000000000002a"'
ok "eth_getTransactionCount" eth_getTransactionCount "[\"$SENDER\",\"pending\"]" '"0x0"'
ok "eth_call" eth_call "[{\"to\":\"$READER\",\"input\":\"$W1\"},\"latest\"]" '"0x000000000000000000000000000000000000000000000000000000000000002a"'
ok "eth_call data == input" eth_call "[{\"to\":\"$READER\",\"data\":\"$W1\",\"input\":\"$W1\"}]" '"0x000000000000000000000000000000000000000000000000000000000000002a"'
ok "eth_call balanceOf" eth_call "[{\"to\":\"$TOKEN\",\"data\":\"0x70a08231$HOLDER_WORD\"}]" '"0x00000000000000000000000000000000000000000000000000000000000f4240"'
ok "eth_call EIP-1898 block" eth_call "[{\"to\":\"$READER\",\"input\":\"$W1\"},{\"blockNumber\":\"0x1\"}]" '"0x000000000000000000000000000000000000000000000000000000000000002a"'
for tag in pending safe finalized 0x1; do
    ok "eth_call at $tag" eth_call "[{\"to\":\"$READER\",\"input\":\"$W1\"},\"$tag\"]" '"0x000000000000000000000000000000000000000000000000000000000000002a"'
done
ok "eth_estimateGas transfer" eth_estimateGas "[{\"from\":\"$SENDER\",\"to\":\"$POOR\",\"value\":\"0x1\"}]" '"0x5208"'
ok "eth_estimateGas loop (geth's search)" eth_estimateGas "[{\"to\":\"$LOOP\"}]" '"0x15f65"'
ok "eth_createAccessList" eth_createAccessList "[{\"from\":\"$SENDER\",\"to\":\"$ACCESSOR\"}]" \
    '{"accessList":[{"address":"0x000000000000000000000000000000000000c005","storageKeys":["0x0000000000000000000000000000000000000000000000000000000000000001"]},{"address":"0x000000000000000000000000000000000000cafe","storageKeys":[]}],"gasUsed":"0x6d06"}'
ok "eth_createAccessList of a loop" eth_createAccessList "[{\"from\":\"$SENDER\",\"to\":\"$LOOP\"}]" '{"accessList":[],"gasUsed":"0x15bbd"}'

# ---- execution errors (-32000) and reverts (3)
err "revert with Error(string)" eth_call "[{\"to\":\"$REVERTER\"}]" \
    '"error":{"code":3,"message":"execution reverted: boom","data":"0x08c379a000000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000004626f6f6d00000000000000000000000000000000000000000000000000000000"}'
err "revert with Panic(0x01)" eth_call "[{\"to\":\"$PANICKER\"}]" '"code":3,"message":"execution reverted: assert(false)","data":"0x4e487b71'
err "estimateGas of a revert" eth_estimateGas "[{\"to\":\"$REVERTER\"}]" '"code":3,"message":"execution reverted: boom"'
err "invalid opcode" eth_call "[{\"to\":\"$INVALID\"}]" '"error":{"code":-32000,"message":"invalid opcode: INVALID"}'
err "out of gas" eth_call "[{\"to\":\"$LOOP\",\"gas\":\"0x7530\"}]" '"error":{"code":-32000,"message":"out of gas"}'
# An SSTORE with at most the call stipend left fails at EIP-2200's sentry:
# geth wraps that error in "out of gas: ..." (as debug_traceCall words it).
err "out of gas at the SSTORE sentry" eth_call "[{\"to\":\"0x0000000000000000000000000000000000000777\",\"gas\":\"0x5400\"},\"latest\",{\"0x0000000000000000000000000000000000000777\":{\"code\":\"0x6001600055\"}}]" \
    '"error":{"code":-32000,"message":"out of gas: not enough gas for reentrancy sentry"}'
err "intrinsic gas too low" eth_call "[{\"to\":\"$LOOP\",\"gas\":\"0x5000\"}]" \
    '"error":{"code":-32000,"message":"err: intrinsic gas too low: have 20480, want 21000 (supplied gas 20480)"}'
err "insufficient funds" eth_call "[{\"from\":\"$POOR\",\"to\":\"$READER\",\"gas\":\"0x5208\",\"gasPrice\":\"0x8\"}]" \
    '"error":{"code":-32000,"message":"err: insufficient funds for gas * price + value: address 0x00000000000000000000000000000000000000cc have 0 want 168000 (supplied gas 21000)"}'
err "fee cap below the base fee" eth_call "[{\"from\":\"$SENDER\",\"to\":\"$READER\",\"gas\":\"0x5208\",\"maxFeePerGas\":\"0x6\"}]" \
    '"message":"err: max fee per gas less than block base fee: address 0x00000000000000000000000000000000000000AA, maxFeePerGas: 6, baseFee: 7 (supplied gas 21000)"'
err "estimateGas beyond the caller's gas" eth_estimateGas "[{\"to\":\"$LOOP\",\"gas\":\"0x7530\"}]" '"message":"gas required exceeds allowance (30000)"'
err "estimateGas: value above balance" eth_estimateGas "[{\"from\":\"$POOR\",\"to\":\"$LOOP\",\"value\":\"0x1\",\"gasPrice\":\"0x1\"}]" \
    '"message":"insufficient funds for transfer"'
err "block after the head" eth_call "[{\"to\":\"$READER\"},\"0x2\"]" '"error":{"code":-32000,"message":"header not found"}'
err "block before the head" eth_call "[{\"to\":\"$READER\"},\"earliest\"]" '"code":-32000,"message":"historical state not available'

# ---- overrides
ok "stateDiff override" eth_call "[{\"to\":\"$READER\",\"input\":\"$W1\"},\"latest\",{\"$READER\":{\"stateDiff\":{\"$W1\":\"$W2\"}}}]" "\"$W2\""
ok "state override clears other slots" eth_call "[{\"to\":\"$READER\",\"input\":\"$W1\"},\"latest\",{\"$READER\":{\"state\":{\"$W2\":\"$W2\"}}}]" \
    '"0x0000000000000000000000000000000000000000000000000000000000000000"'
ok "code and balance overrides" eth_call "[{\"to\":\"0x0000000000000000000000000000000000000777\"},\"latest\",{\"0x0000000000000000000000000000000000000777\":{\"code\":\"0x60aa3160005260206000f3\"},\"$SENDER\":{\"balance\":\"0x10\"}}]" \
    '"0x0000000000000000000000000000000000000000000000000000000000000010"'
# CREATE from 0x777 at nonce 5: keccak(rlp([0x777, 5]))[12:]
ok "nonce override" eth_call "[{\"to\":\"0x0000000000000000000000000000000000000777\"},\"latest\",{\"0x0000000000000000000000000000000000000777\":{\"code\":\"0x600060006000f060005260206000f3\",\"nonce\":\"0x5\"}}]" \
    '"0x0000000000000000000000006fea37642f13609e35f076c4c22d5e19bf21fe4f"'
err "state and stateDiff together" eth_call "[{\"to\":\"$READER\"},\"latest\",{\"$READER\":{\"state\":{},\"stateDiff\":{}}}]" \
    '"error":{"code":-32000,"message":"account 0x000000000000000000000000000000000000c000 has both '"'"'state'"'"' and '"'"'stateDiff'"'"'"}'
# movePrecompileToAddress: identity (0x04) answers at 0x1234; 0x04 runs its own code
IDENTITY=0x0000000000000000000000000000000000000004
MOVED=0x0000000000000000000000000000000000001234
MOVE="{\"$IDENTITY\":{\"movePrecompileToAddress\":\"$MOVED\"}}"
ok "moved precompile answers at its new address" eth_call "[{\"to\":\"$MOVED\",\"input\":\"0xdeadbeef\"},\"latest\",$MOVE]" '"0xdeadbeef"'
ok "moved precompile's old address is an empty account" eth_call "[{\"to\":\"$IDENTITY\",\"input\":\"0xdeadbeef\"},\"latest\",$MOVE]" '"0x"'
ok "moved precompile's old address runs its overridden code" eth_call "[{\"to\":\"$IDENTITY\",\"input\":\"0xdeadbeef\"},\"latest\",{\"$IDENTITY\":{\"movePrecompileToAddress\":\"$MOVED\",\"code\":\"0x602a60005260206000f3\"}}]" \
    '"0x000000000000000000000000000000000000000000000000000000000000002a"'
# 0x777 staticcalls 0x1234 with 3 bytes and returns what came back
ok "a contract calls the moved precompile" eth_call "[{\"to\":\"0x0000000000000000000000000000000000000777\"},\"latest\",{\"$IDENTITY\":{\"movePrecompileToAddress\":\"$MOVED\"},\"0x0000000000000000000000000000000000000777\":{\"code\":\"0x62abcdef600052600360006003601d61123461fffffa5060036000f3\"}}]" '"0xabcdef"'
ok "estimateGas with a moved precompile" eth_estimateGas "[{\"to\":\"$MOVED\",\"input\":\"0xdeadbeef\"},\"latest\",$MOVE]" '"0x534e"'
err "move of a non-precompile" eth_call "[{\"to\":\"$READER\"},\"latest\",{\"$READER\":{\"movePrecompileToAddress\":\"$MOVED\"}}]" \
    '"error":{"code":-32000,"message":"account 0x000000000000000000000000000000000000c000 is not a precompile"}'
err "move to an overridden account" eth_call "[{\"to\":\"$READER\"},\"latest\",{\"$IDENTITY\":{\"movePrecompileToAddress\":\"$READER\"},\"$READER\":{\"balance\":\"0x1\"}}]" \
    '"error":{"code":-32000,"message":"account 0x000000000000000000000000000000000000c000 is already overridden"}'
err "move in eth_createAccessList (geth has no precompile table there)" eth_createAccessList "[{\"to\":\"$MOVED\"},\"latest\",$MOVE]" \
    '"error":{"code":-32000,"message":"account 0x0000000000000000000000000000000000000004 is not a precompile"}'
ok "block overrides" eth_call "[{\"from\":\"$SENDER\",\"to\":\"$BLOCKINFO\",\"maxFeePerGas\":\"0x9\"},\"latest\",{},{\"number\":\"0x99\",\"baseFeePerGas\":\"0x8\",\"gasLimit\":\"0x1000000\",\"time\":\"0x1\",\"feeRecipient\":\"0x0000000000000000000000000000000000000001\",\"prevRandao\":\"$W1\"}]" \
    '"0x000000000000000000000000000000000000000000000000000000000000000800000000000000000000000000000000000000000000000000000000000000990000000000000000000000000000000000000000000000000000000001000000"'
# geth's call gas is not bounded by the block's gas limit, and GASLIMIT still reads the block's
ok "gas above the block's limit: GASLIMIT reads the block's" eth_call "[{\"to\":\"$BLOCKINFO\",\"gas\":\"0x2000000\"}]" \
    '"0x000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000001c9c380"'
ok "no gas price: BASEFEE reads 0" eth_call "[{\"to\":\"$BLOCKINFO\"}]" \
    '"0x000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000001c9c380"'

# ---- batches
check "batch in order, notifications skipped" \
    '[{"jsonrpc":"2.0","id":"a","result":"0x539"},{"jsonrpc":"2.0","id":2,"result":"0x1"},{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request"}},{"jsonrpc":"2.0","id":3,"error":{"code":3,"message":"execution reverted: boom"' \
    "$(rpc '[{"jsonrpc":"2.0","id":"a","method":"eth_chainId"},{"jsonrpc":"2.0","id":2,"method":"eth_blockNumber"},{"jsonrpc":"2.0","method":"eth_chainId"},7,{"jsonrpc":"2.0","id":3,"method":"eth_call","params":[{"to":"'$REVERTER'"}]}]')"
check_eq "batch of notifications: empty answer" "" \
    "$(rpc '[{"jsonrpc":"2.0","method":"eth_chainId"},{"jsonrpc":"2.0","method":"eth_blockNumber"}]')"
check_eq "a notification: empty answer" "" "$(rpc '{"jsonrpc":"2.0","method":"eth_blockNumber"}')"
check "empty batch" '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"empty batch"}}' "$(rpc '[]')"
body="["
i=0
while [ $i -lt 1000 ]; do body="$body{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"eth_chainId\"},"; i=$((i + 1)); done
check "batch of 1000 (the default limit)" '"id":999,"result":"0x539"}]' "$(rpc "${body%,}]")"
check "batch of 1001" '[{"jsonrpc":"2.0","id":0,"error":{"code":-32600,"message":"batch too large"}}]' \
    "$(rpc "${body}{\"jsonrpc\":\"2.0\",\"id\":1000,\"method\":\"eth_chainId\"}]")"

# ---- admin writes: the token is required, compared exactly
SET_CODE=$(req anvil_setCode '["0x0000000000000000000000000000000000000abc","0x604260005260206000f3"]')
check "admin without a token" '"code":-32001,"message":"unauthorized: anvil_setCode needs the admin bearer token (none was given)"' "$(rpc "$SET_CODE")"
check "admin with a wrong token" '"code":-32001,"message":"unauthorized: anvil_setCode needs the admin bearer token (the one given is wrong)"' \
    "$(rpc_auth "${TOKEN_VALUE}x" "$SET_CODE")"
check "admin with a prefix of the token" '"code":-32001' "$(rpc_auth "e2e-secret" "$SET_CODE")"
check "anvil_setCode" '"result":null' "$(rpc_auth "$TOKEN_VALUE" "$SET_CODE")"
ok "the new code runs" eth_call '[{"to":"0x0000000000000000000000000000000000000abc"}]' '"0x0000000000000000000000000000000000000000000000000000000000000042"'
check "anvil_setBalance" '"result":null' "$(rpc_auth "$TOKEN_VALUE" "$(req anvil_setBalance "[\"$POOR\",\"0x64\"]")")"
ok "balance set" eth_getBalance "[\"$POOR\"]" '"0x64"'
check "anvil_setNonce" '"result":null' "$(rpc_auth "$TOKEN_VALUE" "$(req anvil_setNonce "[\"$POOR\",\"0x7\"]")")"
ok "nonce set" eth_getTransactionCount "[\"$POOR\"]" '"0x7"'
check "anvil_setStorageAt" '"result":true' "$(rpc_auth "$TOKEN_VALUE" "$(req anvil_setStorageAt "[\"$READER\",\"0x1\",\"$W2\"]")")"
ok "slot set" eth_call "[{\"to\":\"$READER\",\"input\":\"$W1\"}]" "\"$W2\""
check "hardhat_setBalance" '"result":true' "$(rpc_auth "$TOKEN_VALUE" "$(req hardhat_setBalance "[\"$POOR\",\"0x65\"]")")"
check "hardhat_setNonce" '"result":true' "$(rpc_auth "$TOKEN_VALUE" "$(req hardhat_setNonce "[\"$POOR\",\"0x8\"]")")"
check "hardhat_setCode" '"result":true' "$(rpc_auth "$TOKEN_VALUE" "$(req hardhat_setCode "[\"$POOR\",\"0x00\"]")")"
check "hardhat_setStorageAt" '"result":true' "$(rpc_auth "$TOKEN_VALUE" "$(req hardhat_setStorageAt "[\"$READER\",\"0x1\",\"$W1\"]")")"
ok "hardhat writes seen" eth_getCode "[\"$POOR\"]" '"0x00"'
check "jitevm_setBlock" '"result":true' "$(rpc_auth "$TOKEN_VALUE" "$(req jitevm_setBlock '[{"number":"0x5","timestamp":"0x7d0","baseFeePerGas":"0x9"}]')")"
ok "head moved" eth_blockNumber '[]' '"0x5"'
ok "base fee moved" eth_gasPrice '[]' '"0x3b9aca09"'
check "admin bad params" '"code":-32602,"message":"invalid argument 1: json: cannot unmarshal hex number with leading zero digits' \
    "$(rpc_auth "$TOKEN_VALUE" "$(req anvil_setBalance "[\"$POOR\",\"0x0064\"]")")"

# ---- health, metrics, CORS
check "GET /health" '200 {"status":"ok","draining":false,"database":"open","snapshot":0}' "$(curl -s -w '%{http_code} ' -o "$TMP/h" "${URL}health"; cat "$TMP/h")"
METRICS=$(curl -s "${URL}metrics")
check "metrics: requests by method" 'jitevm_rpc_requests_total{method="eth_call"}' "$METRICS"
check "metrics: errors by method and code" 'jitevm_rpc_errors_total{method="eth_call",code="3"}' "$METRICS"
check "metrics: latency histogram" 'jitevm_rpc_request_duration_seconds_bucket{method="eth_call",le="+Inf"}' "$METRICS"
check "metrics: executions by tier" 'jitevm_executions_total{tier="interpreter"}' "$METRICS"
check "metrics: gas" 'jitevm_gas_executed_total ' "$METRICS"
check "metrics: compile cache" 'jitevm_compile_cache_misses_total ' "$METRICS"
HEADERS=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' --data-binary "$(req eth_chainId '[]')" "$URL")
check "CORS header" "Access-Control-Allow-Origin: *" "$HEADERS"
check "JSON content type" "Content-Type: application/json" "$HEADERS"
PREFLIGHT=$(curl -s -D - -o /dev/null -X OPTIONS -H 'Origin: http://example.com' -H 'Access-Control-Request-Method: POST' "$URL")
check "CORS preflight" "204" "$PREFLIGHT"
check "CORS preflight headers" "Access-Control-Allow-Headers: Content-Type, Authorization" "$PREFLIGHT"
check "keep-alive: two requests, one connection" '"result":"0x539"}{"jsonrpc":"2.0","id":1,"result":"0x539"}' \
    "$(curl -s -H 'Content-Type: application/json' --data-binary "$(req eth_chainId '[]')" "$URL" --next -H 'Content-Type: application/json' --data-binary "$(req eth_chainId '[]')" "$URL")"
check "debug log: one line per request" "debug rpc eth_call id=1" "$(cat "$TMP/main.log")"
check "warn log: errors" "warn  rpc eth_call id=1" "$(cat "$TMP/main.log")"

# ---- the bad-input table: each malformed request gets its error, and
# the server keeps serving. Columns: HTTP status | fragment of the answer |
# HTTP method | content type ("-": none) | body.
BAD=$TMP/bad.txt
cat > "$BAD" << 'EOF'
200|{"code":-32700,"message":"parse error"}|POST|application/json|{"jsonrpc":"2.0","id":1,
200|{"code":-32700,"message":"parse error"}|POST|application/json|[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}
200|{"code":-32700,"message":"parse error"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_chainId"} x
200|{"code":-32700,"message":"parse error"}|POST|application/json|{'jsonrpc':'2.0'}
200|{"code":-32700,"message":"parse error"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_chainId",}
200|{"code":-32700,"message":"parse error"}|POST|application/json|
200|"id":null,"error":{"code":-32600,"message":"invalid request"}|POST|application/json|null
200|"id":null,"error":{"code":-32600,"message":"invalid request"}|POST|application/json|42
200|"id":null,"error":{"code":-32600,"message":"invalid request"}|POST|application/json|"eth_chainId"
200|{"code":-32600,"message":"empty batch"}|POST|application/json|[]
200|[{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request"}}]|POST|application/json|[1]
200|"id":1,"error":{"code":-32600,"message":"invalid request"}|POST|application/json|{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}
200|"id":1,"error":{"code":-32600,"message":"invalid request"}|POST|application/json|{"id":1,"method":"eth_chainId"}
200|"id":1,"error":{"code":-32600,"message":"invalid request"}|POST|application/json|{"jsonrpc":2.0,"id":1,"method":"eth_chainId"}
200|"id":1,"error":{"code":-32600,"message":"invalid request"}|POST|application/json|{"jsonrpc":"2.0","id":1}
200|"id":1,"error":{"code":-32600,"message":"invalid request"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":42}
200|"id":1,"error":{"code":-32600,"message":"invalid request"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":""}
200|"id":null,"error":{"code":-32600,"message":"invalid request"}|POST|application/json|{"jsonrpc":"2.0","id":{"a":1},"method":"eth_chainId"}
200|"id":null,"error":{"code":-32600,"message":"invalid request"}|POST|application/json|{"jsonrpc":"2.0","id":[1],"method":"eth_chainId"}
200|{"code":-32602,"message":"non-array args"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":{"a":1}}
200|{"code":-32602,"message":"non-array args"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":"latest"}
200|{"code":-32601,"message":"the method eth_sendTransaction does not exist/is not available"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_sendTransaction","params":[]}
200|{"code":-32601,"message":"the method ETH_CHAINID does not exist/is not available"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"ETH_CHAINID"}
200|{"code":-32602,"message":"too many arguments, want at most 0"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[1]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal hex string without 0x prefix into Go value of type common.Address"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["f39fd6e51aad88f6f4ce6ab8827279cfffb92266"]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal hex string of odd length into Go value of type common.Address"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0xf39fd6e51aad88f6f4ce6ab8827279cfffb9226"]}
200|{"code":-32602,"message":"invalid argument 0: hex string has length 38, want 40 for common.Address"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0xf39fd6e51aad88f6f4ce6ab8827279cfffb922"]}
200|{"code":-32602,"message":"invalid argument 0: hex string has length 42, want 40 for common.Address"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0xf39fd6e51aad88f6f4ce6ab8827279cfffb9226600"]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal invalid hex string into Go value of type common.Address"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0xz39fd6e51aad88f6f4ce6ab8827279cfffb92266"]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal non-string into Go value of type common.Address"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[1234]}
200|{"code":-32602,"message":"missing value for required argument 0"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[]}
200|{"code":-32602,"message":"missing value for required argument 0"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[null]}
200|{"code":-32602,"message":"too many arguments, want at most 2"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa","latest",1]}
200|{"code":-32602,"message":"invalid argument 1: hex string without 0x prefix"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa","latests"]}
200|{"code":-32602,"message":"invalid argument 1: hex number with leading zero digits"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa","0x01"]}
200|{"code":-32602,"message":"invalid argument 1: hex number > 64 bits"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa","0x10000000000000000"]}
200|{"code":-32602,"message":"invalid argument 1: hex string without 0x prefix"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa","-0x1"]}
200|{"code":-32602,"message":"invalid argument 1: json: cannot unmarshal number into Go value of type string"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa",1]}
200|{"code":-32602,"message":"invalid argument 1: blocknumber too high"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa","0xffffffffffffffff"]}
200|{"code":-32000,"message":"header for hash not found"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa",{"blockHash":"0x00000000000000000000000000000000000000000000000000000000000000ab"}]}
200|{"code":-32602,"message":"invalid argument 1: cannot specify both BlockHash and BlockNumber, choose one or the other"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa",{"blockNumber":"0x1","blockHash":"0x00000000000000000000000000000000000000000000000000000000000000ab"}]}
200|{"code":-32602,"message":"invalid argument 1: must specify either BlockHash or BlockNumber"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa",{}]}
200|{"code":-32602,"message":"invalid argument 1: json: unknown field \"blockTag\""}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa",{"blockTag":"latest"}]}
200|{"code":-32602,"message":"storage key too long (want at most 32 bytes): \"0x000000000000000000000000000000000000000000000000000000000000000001\""}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getStorageAt","params":["0x000000000000000000000000000000000000c000","0x000000000000000000000000000000000000000000000000000000000000000001"]}
200|{"code":-32602,"message":"invalid hex in storage key: \"0xslot\""}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getStorageAt","params":["0x000000000000000000000000000000000000c000","0xslot"]}
200|{"code":-32602,"message":"invalid argument 1: json: cannot unmarshal number into Go value of type string"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_getStorageAt","params":["0x000000000000000000000000000000000000c000",1]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal string into Go value of type ethapi.TransactionArgs"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":["0x000000000000000000000000000000000000c000"]}
200|{"code":-32602,"message":"invalid argument 0: json: unknown field \"gasLimit\""}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","gasLimit":"0x5208"}]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal hex number with leading zero digits into Go struct field TransactionArgs.gas of type hexutil.Uint64"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","gas":"0x05208"}]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal hex number > 64 bits into Go struct field TransactionArgs.gas of type hexutil.Uint64"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","gas":"0x10000000000000000"}]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal non-string into Go struct field TransactionArgs.gas of type hexutil.Uint64"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","gas":-1}]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal non-string into Go struct field TransactionArgs.gas of type hexutil.Uint64"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","gas":21000}]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal hex number > 256 bits into Go struct field TransactionArgs.value of type *hexutil.Big"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","value":"0x10000000000000000000000000000000000000000000000000000000000000000"}]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal hex string \"0x\" into Go struct field TransactionArgs.value of type *hexutil.Big"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","value":"0x"}]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal hex string of odd length into Go struct field TransactionArgs.data of type hexutil.Bytes"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","data":"0x123"}]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal hex string without 0x prefix into Go struct field TransactionArgs.input of type hexutil.Bytes"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","input":"1234"}]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal invalid hex string into Go struct field TransactionArgs.input of type hexutil.Bytes"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","input":"0xgg"}]}
200|{"code":-32602,"message":"invalid argument 0: hex string has length 64, want 40 for common.Address"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000000000000000000000000000c000"}]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal object into Go struct field TransactionArgs.accessList of type types.AccessList"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","accessList":{}}]}
200|{"code":-32602,"message":"invalid argument 0: missing required field 'storageKeys' for AccessTuple"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","accessList":[{"address":"0x000000000000000000000000000000000000c000"}]}]}
200|{"code":-32602,"message":"invalid argument 0: hex string has length 66, want 64 for common.Hash"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","accessList":[{"address":"0x000000000000000000000000000000000000c000","storageKeys":["0x000000000000000000000000000000000000000000000000000000000000000001"]}]}]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal string into Go struct field TransactionArgs.blobVersionedHashes of type []common.Hash"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","blobVersionedHashes":"0x01"}]}
200|{"code":-32602,"message":"invalid argument 0: missing required field 'yParity' for SetCodeAuthorization"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","authorizationList":[{"chainId":"0x1","address":"0x000000000000000000000000000000000000c000","nonce":"0x0","r":"0x1","s":"0x1"}]}]}
200|{"code":-32000,"message":"both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","gasPrice":"0x1","maxFeePerGas":"0x1"}]}
200|{"code":-32000,"message":"chainId does not match node's (have=1, want=1337)"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","chainId":"0x1"}]}
200|{"code":-32000,"message":"both \"data\" and \"input\" are set and not equal. Please use \"input\" to pass transaction call data"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000","data":"0x01","input":"0x02"}]}
200|{"code":-32602,"message":"invalid argument 2: json: cannot unmarshal array into Go value of type override.StateOverride"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000"},"latest",[]]}
200|{"code":-32602,"message":"invalid argument 2: hex string has length 4, want 40 for Address"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000"},"latest",{"0xc000":{"balance":"0x1"}}]}
200|{"code":-32602,"message":"invalid argument 2: json: unknown field \"storage\""}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000"},"latest",{"0x000000000000000000000000000000000000c000":{"storage":{}}}]}
200|{"code":-32602,"message":"invalid argument 2: json: cannot unmarshal hex string of odd length into Go struct field OverrideAccount.stateDiff of type common.Hash"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000"},"latest",{"0x000000000000000000000000000000000000c000":{"stateDiff":{"0x0000000000000000000000000000000000000000000000000000000000000001":"0x1"}}}]}
200|{"code":-32602,"message":"invalid argument 2: hex string has length 2, want 64 for Hash"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000"},"latest",{"0x000000000000000000000000000000000000c000":{"state":{"0x01":"0x0000000000000000000000000000000000000000000000000000000000000001"}}}]}
200|{"code":-32602,"message":"invalid argument 3: json: unknown field \"height\""}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000"},"latest",{},{"height":"0x1"}]}
200|{"code":-32000,"message":"block override \"withdrawals\" is not supported for this RPC method"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x000000000000000000000000000000000000c000"},"latest",{},{"withdrawals":[]}]}
200|{"code":-32602,"message":"too many arguments, want at most 4"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{},"latest",{},{},{}]}
200|{"code":-32602,"message":"too many arguments, want at most 3"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_createAccessList","params":[{},"latest",{},{}]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal hex string of odd length into Go value of type hexutil.Bytes"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"web3_sha3","params":["0x123"]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal non-string into Go value of type hexutil.Bytes"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"web3_sha3","params":[1]}
200|{"code":-32602,"message":"invalid argument 0: json: cannot unmarshal hex number with leading zero digits into Go struct field TransactionArgs.maxFeePerGas of type *hexutil.Big"}|POST|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_estimateGas","params":[{"to":"0x000000000000000000000000000000000000c000","maxFeePerGas":"0x0001"}]}
405|{"code":-32600,"message":"method not allowed"}|GET|-|
405|{"code":-32600,"message":"method not allowed"}|PUT|application/json|{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}
405|{"code":-32600,"message":"method not allowed"}|DELETE|-|
405|{"code":-32600,"message":"method not allowed"}|POST|application/json|@health
415|{"code":-32600,"message":"invalid content type, only application/json is supported"}|POST|text/plain|{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}
415|{"code":-32600,"message":"invalid content type, only application/json is supported"}|POST|-|{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}
415|{"code":-32600,"message":"invalid content type, only application/json is supported"}|POST|application/x-www-form-urlencoded|{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}
200|{"jsonrpc":"2.0","id":1,"result":"0x539"}|POST|application/json; charset=utf-8|{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}
404|{"code":-32600,"message":"not found: /rpc"}|POST|application/json|@rpc
EOF
N_BAD=0
while IFS='|' read -r status fragment method ctype body; do
    N_BAD=$((N_BAD + 1))
    target=$URL
    case $body in @*) target="$URL${body#@}" body='{}' ;; esac
    if [ "$ctype" = "-" ]; then set -- -H 'Content-Type:'; else set -- -H "Content-Type: $ctype"; fi
    if [ "$method" = GET ] || [ "$method" = DELETE ]; then
        got=$(curl -s -o "$TMP/bad.out" -w '%{http_code}' -X "$method" "$target")
    else
        got=$(curl -s -o "$TMP/bad.out" -w '%{http_code}' -X "$method" "$@" --data-binary "$body" "$target")
    fi
    check_eq "bad input $N_BAD: HTTP status ($body)" "$status" "$got"
    check "bad input $N_BAD: answer" "$fragment" "$(cat "$TMP/bad.out")"
done < "$BAD"

# Generated bad inputs: a long method name, bodies over the 5 MiB limit
# (with a Content-Length, and chunked), a batch above the limit.
long=$(printf '%03000d' 0 | tr 0 m)
check "bad input: method name too long" '{"code":-32600,"message":"method name too long: 3000 > 2048"}' \
    "$(rpc "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$long\"}")"
head -c 6000000 /dev/zero | tr '\0' ' ' > "$TMP/big"
check_eq "bad input: body over the limit" 413 \
    "$(curl -s -o "$TMP/bad.out" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$TMP/big" "$URL")"
check "bad input: body over the limit, answer" '"message":"content length too large (6000000>5242880)"' "$(cat "$TMP/bad.out")"
check_eq "bad input: chunked body over the limit" 413 \
    "$(curl -s -o "$TMP/bad.out" -w '%{http_code}' -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big" "$URL")"
N_BAD=$((N_BAD + 3))
check_eq "the bad-input table has at least 60 rows" yes "$([ $N_BAD -ge 60 ] && echo yes || echo "no ($N_BAD)")"
ok "still serving after the bad inputs" eth_chainId '[]' '"0x539"'
ok "state reads still work" eth_call "[{\"to\":\"$READER\",\"input\":\"$W1\"}]" "\"$W1\""
if stop_server; then pass; else fail "main server: exit status 0 on SIGTERM"; fi
check "main server: clean stop logged" "stopped cleanly" "$(cat "$TMP/main.log")"

# ============================================================ limits
start_server "$TMP/limits.log" --max-body 1k --max-batch 3 --gas-cap 100000 --cors-origin https://app.example
check_eq "--max-body: 1100 bytes refused" 413 \
    "$(head -c 1100 /dev/zero | tr '\0' ' ' | curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @- "$URL")"
check "--max-batch: 3 allowed" '"id":3,"result":"0x539"}]' \
    "$(rpc '[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":2,"method":"eth_chainId"},{"jsonrpc":"2.0","id":3,"method":"eth_chainId"}]')"
check "--max-batch: 4 refused" '[{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"batch too large"}}]' \
    "$(rpc '[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":2,"method":"eth_chainId"},{"jsonrpc":"2.0","id":3,"method":"eth_chainId"},{"jsonrpc":"2.0","id":4,"method":"eth_chainId"}]')"
err "--gas-cap: the call gets at most the cap" eth_call "[{\"to\":\"$FOREVER\",\"gas\":\"0xffffffff\"}]" '"error":{"code":-32000,"message":"out of gas"}'
err "--gas-cap: supplied gas shows the cap" eth_call "[{\"from\":\"$POOR\",\"to\":\"$READER\",\"gas\":\"0xffffffff\",\"gasPrice\":\"0x10\"}]" \
    'have 101 want 1600000 (supplied gas 100000)'
err "--gas-cap: the estimator's ceiling" eth_estimateGas "[{\"to\":\"$FOREVER\"}]" '"message":"gas required exceeds allowance (100000)"'
check "--cors-origin" "Access-Control-Allow-Origin: https://app.example" \
    "$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' --data-binary "$(req eth_chainId '[]')" "$URL")"
check "admin methods absent without --admin" '"code":-32601,"message":"the method anvil_setBalance does not exist/is not available"' \
    "$(rpc_auth "$TOKEN_VALUE" "$(req anvil_setBalance "[\"$POOR\",\"0x1\"]")")"
if stop_server; then pass; else fail "limits server: exit status 0"; fi

# ============================================================ timeout
start_server "$TMP/timeout.log" --call-timeout 2s --gas-cap 0 --workers 2
curl -s -o "$TMP/forever.out" -H 'Content-Type: application/json' \
    --data-binary "$(req eth_call "[{\"to\":\"$FOREVER\",\"gas\":\"0x7fffffffffffffff\"}]")" "$URL" &
CURL_PID=$!
sleep 0.1
# While one worker runs the endless loop, other requests are answered: both
# answers arrive while the long call is still running (not after its timeout;
# no wall-clock bound, which a loaded machine would break).
ok "answered during a long call (HTTP thread)" eth_chainId '[]' '"0x539"'
ok "answered during a long call (worker)" eth_getBalance "[\"$SENDER\"]" '"0xde0b6b3a7640000"'
check_eq "answered while the long call still runs" yes "$(kill -0 $CURL_PID 2>/dev/null && echo yes || echo "no: the long call ended first")"
wait $CURL_PID
check "timeout: geth's message" '"error":{"code":-32000,"message":"execution aborted (timeout = 2s)"}' "$(cat "$TMP/forever.out")"
err "timeout: estimateGas too" eth_estimateGas "[{\"to\":\"$FOREVER\",\"gas\":\"0x7fffffffffffffff\"}]" '"message":"execution aborted (timeout = 2s)"'
# A call chain 1024 frames deep (the interpreter recurses in C per frame):
# the code calls itself with all its gas until the depth limit stops it.
ok "1024-deep call chain" eth_call "[{\"to\":\"0x0000000000000000000000000000000000000777\",\"gas\":\"0x10000000000\"},\"latest\",{\"0x0000000000000000000000000000000000000777\":{\"code\":\"0x60006000600060006000305af100\"}}]" '"0x"'
ok "still serving after timeouts" eth_call "[{\"to\":\"$READER\",\"input\":\"$W1\"}]" "\"$W1\""
if stop_server; then pass; else fail "timeout server: exit status 0"; fi

# ============================================================ inline budget
# One HTTP thread: a long call starts on it, runs out of its inline budget,
# moves to the worker; the thread's other connections are answered meanwhile.
start_server "$TMP/inline.log" --threads 1 --workers 1 --inline-budget 2ms --call-timeout 3s --gas-cap 0
curl -s -o "$TMP/forever2.out" -H 'Content-Type: application/json' --data-binary "$(req eth_call "[{\"to\":\"$FOREVER\",\"gas\":\"0x7fffffffffffffff\"}]")" "$URL" &
CURL_PID=$!
sleep 0.2
ok "one HTTP thread: a call answered while a long one runs" eth_call "[{\"to\":\"$READER\",\"input\":\"$W1\"}]" "\"$W1\""
check_eq "one HTTP thread: answered before the long call ended" yes "$(kill -0 $CURL_PID 2>/dev/null && echo yes || echo "no: the long call ended first")"
wait $CURL_PID
check "the long call timed out on the worker" '"error":{"code":-32000,"message":"execution aborted (timeout = 3s)"}' "$(cat "$TMP/forever2.out")"
check_eq "the abandoned inline attempt is not logged" 1 "$(grep -c 'execution aborted' "$TMP/inline.log")"
if stop_server; then pass; else fail "inline server: exit status 0"; fi
start_server "$TMP/noinline.log" --inline-budget 0 --workers 1
ok "inline budget 0: calls run on the workers" eth_call "[{\"to\":\"$TOKEN\",\"data\":\"0x70a08231$HOLDER_WORD\"}]" \
    '"0x00000000000000000000000000000000000000000000000000000000000f4240"'
if stop_server; then pass; else fail "no-inline server: exit status 0"; fi

# ============================================================ queue limit
# The calls never end on their own (FOREVER), so the worker and the queue
# stay held however slowly a loaded machine sends them; each is answered
# with its timeout.
start_server "$TMP/queue.log" --workers 1 --queue 1 --gas-cap 0 --call-timeout 2s
HELD_CALL=$(req eth_call "[{\"to\":\"$FOREVER\",\"gas\":\"0x7fffffffffffffff\"}]")
# Each request is sent once the one before has left its HTTP thread (its
# inline attempt handed over: to the worker, the queue or a 503), so that on
# a loaded machine the queue is full when the third and fourth arrive.
handed_over() {
    curl -s "${URL}metrics" | sed -n 's/^jitevm_inline_handoffs_total{reason="budget"} //p'
}
for i in 1 2 3 4; do
    curl -s -o "$TMP/q$i.out" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$HELD_CALL" "$URL" > "$TMP/q$i.code" &
    eval "Q$i=\$!"
    tries=0
    while [ "$(handed_over)" -lt $i ] 2> /dev/null && [ $tries -lt 100 ]; do
        sleep 0.05
        tries=$((tries + 1))
    done
done
wait $Q1 $Q2 $Q3 $Q4
busy=0
done_ok=0
for i in 1 2 3 4; do
    case $(cat "$TMP/q$i.code") in
    503) busy=$((busy + 1)); check "queue full: answer" '{"code":-32005,"message":"server busy: 1 requests are waiting for a worker"}' "$(cat "$TMP/q$i.out")" ;;
    200) done_ok=$((done_ok + 1)); check "queue: a held call is answered (its timeout)" '"error":{"code":-32000,"message":"execution aborted (timeout = 2s)"}' "$(cat "$TMP/q$i.out")" ;;
    esac
done
check_eq "queue full: the worker's and the queue's calls answered, the others refused with 503" "2 answered, 2 busy" "$done_ok answered, $busy busy"
if stop_server; then pass; else fail "queue server: exit status 0"; fi

# ============================================================ shutdown
# Requests in flight when SIGTERM arrives are all answered; then the port
# is closed and the process exits 0.

# in_flight N PREFIX: waits (10 s at most) until N requests have reached the
# server: those it holds (besides the /metrics request that asks) and those
# already answered into $TMP/PREFIX*.out, so that SIGTERM finds every client
# connected however slowly they start on a loaded machine.
in_flight() {
    tries=0
    while [ $tries -lt 100 ]; do
        done_=$(cat "$TMP/$2"*.out 2> /dev/null | grep -o '"jsonrpc"' | wc -l)
        n=$(curl -s "${URL}metrics" | sed -n 's/^jitevm_http_requests_in_flight //p')
        [ $((${n:-1} - 1 + done_)) -ge "$1" ] && return 0
        sleep 0.1
        tries=$((tries + 1))
    done
    echo "rpc-e2e: $1 requests never reached the server (last seen: ${n:-none} in flight with the metrics request, $done_ answered)"
}
start_server "$TMP/shutdown.log" --workers 2 --gas-cap 0 --shutdown-timeout 20s
SLOW_CALL=$(req eth_call "[{\"to\":\"$SLOW\",\"gas\":\"0x10000000\"}]")
i=1
while [ $i -le 6 ]; do
    curl -s -o "$TMP/s$i.out" -H 'Content-Type: application/json' --data-binary "$SLOW_CALL" "$URL" &
    eval "S$i=\$!"
    i=$((i + 1))
done
curl -s -o "$TMP/quick.out" -H 'Content-Type: application/json' --data-binary "$(req eth_chainId '[]')" "$URL" &
S7=$!
wait $S7
in_flight 6 s
PID=$SERVER_PID
kill -TERM "$PID"
wait $S1 $S2 $S3 $S4 $S5 $S6
answered=0
for i in 1 2 3 4 5 6; do
    case $(cat "$TMP/s$i.out") in *'"result":"0x0000000000000000000000000000000000000000000000000000000000000001"'*) answered=$((answered + 1)) ;; esac
done
check_eq "shutdown: every slow call in flight answered" 6 "$answered"
check "shutdown: the quick one too" '"result":"0x539"' "$(cat "$TMP/quick.out")"
wait "$PID"
check_eq "shutdown: exit status" 0 "$?"
SERVER_PID=
check "shutdown: logged" "SIGTERM received: no new connections" "$(cat "$TMP/shutdown.log")"
check "shutdown: clean" "stopped cleanly" "$(cat "$TMP/shutdown.log")"
check_eq "shutdown: the port is closed" 000 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$(req eth_chainId '[]')" "$URL")"

# Calls that outlive --shutdown-timeout are aborted, and answered.
start_server "$TMP/abort.log" --workers 2 --gas-cap 0 --call-timeout 0 --shutdown-timeout 300ms
FOREVER_CALL=$(req eth_call "[{\"to\":\"$FOREVER\",\"gas\":\"0x7fffffffffffffff\"}]")
curl -s -o "$TMP/a1.out" -H 'Content-Type: application/json' --data-binary "$FOREVER_CALL" "$URL" &
A1=$!
curl -s -o "$TMP/a2.out" -H 'Content-Type: application/json' --data-binary "$FOREVER_CALL" "$URL" &
A2=$!
in_flight 2 a
PID=$SERVER_PID
T0=$(date +%s%N)
kill -TERM "$PID"
wait $A1 $A2
wait "$PID"
check_eq "shutdown timeout: exit status" 0 "$?"
T1=$(date +%s%N)
SERVER_PID=
for i in 1 2; do
    check "shutdown timeout: call $i answered" '"error":{"code":-32000,"message":"execution aborted (the server is shutting down)"}' "$(cat "$TMP/a$i.out")"
done
check_eq "shutdown timeout: bounded" yes "$([ $(((T1 - T0) / 1000000)) -lt 3000 ] && echo yes || echo "no: $(((T1 - T0) / 1000000)) ms")"
check "shutdown timeout: logged" "requests still running after the shutdown timeout: aborting them" "$(cat "$TMP/abort.log")"

# ============================================================ compiler tier
# Tiered: a contract's first calls run interpreted while it compiles in the
# background, later calls compiled; compiled programs are kept in the
# database under a keyed tag, so a restarted server loads them instead of
# compiling again, and refuses them under another key. (On a fresh database,
# so that nothing is stored yet.)
DB=$TMP/jit.db
"$JITEVM" init --db "$DB" --chain "$TMP/genesis.json" > /dev/null 2>&1 || fail "init of the compiler-tier database"
LOOP_CALL=$(req eth_call "[{\"to\":\"$LOOP\"}]")
LOOP_RESULT='"result":"0x97d6b884a4d77a415bd8a5aad3c32e93a45c30b5a0eb9118b2e06be05a438f72"}'
# metric NAME: the value of one sample of /metrics ("" when absent).
metric() { curl -s "${URL}metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
# at_least NAME MIN VALUE: VALUE is an integer >= MIN.
at_least() {
    case $3 in
    '' | *[!0-9]*) fail "$1" ">= $2" "'$3'" ;;
    *) if [ "$3" -ge "$2" ]; then pass; else fail "$1" ">= $2" "$3"; fi ;;
    esac
}
# wait_metric NAME MIN: the value once it is >= MIN, or after 5 s.
wait_metric() {
    i=0
    while v=$(metric "$1") && [ $i -lt 100 ]; do
        case $v in '' | *[!0-9]*) ;; *) [ "$v" -ge "$2" ] && break ;; esac
        i=$((i + 1))
        sleep 0.05
    done
    echo "$v"
}
COMPILED='jitevm_executions_total{tier="compiled"}'

start_server "$TMP/tiered.log" --engine tiered --workers 2
check "tiered: the startup line names the engine" "engine=tiered" "$(cat "$TMP/tiered.log")"
check "tiered: first call (interpreted)" "$LOOP_RESULT" "$(rpc "$LOOP_CALL")"
at_least "tiered: the loop contract compiled in the background" 1 "$(wait_metric jitevm_programs 1)"
for i in 1 2 3 4 5; do check "tiered: call $i after compiling" "$LOOP_RESULT" "$(rpc "$LOOP_CALL")"; done
at_least "tiered: later calls run compiled" 1 "$(metric "$COMPILED")"
at_least "tiered: the program is stored" 1 "$(wait_metric jitevm_program_store_saves_total 1)"
check_eq "tiered: the program key file is private" 600 "$(stat -c %a "$DB.program-key" 2> /dev/null)"
check_eq "tiered: the program key is 32 bytes" 32 "$(stat -c %s "$DB.program-key" 2> /dev/null)"
# Code that only a state override brings is compiled and used, never kept.
OV_CODE=0x6103e85b600190038060035700
OV_CALL=$(req eth_call "[{\"to\":\"0x00000000000000000000000000000000000ccccc\"},\"latest\",{\"0x00000000000000000000000000000000000ccccc\":{\"code\":\"$OV_CODE\"}}]")
check "tiered: a call into override code" '"result":"0x"}' "$(rpc "$OV_CALL")"
at_least "tiered: override code is compiled but not kept" 1 "$(wait_metric jitevm_program_store_not_kept_total 1)"
check "tiered: override code, compiled" '"result":"0x"}' "$(rpc "$OV_CALL")"
if stop_server; then pass; else fail "tiered server: exit status 0"; fi

start_server "$TMP/restart.log" --engine tiered --workers 2
check "restart: first call" "$LOOP_RESULT" "$(rpc "$LOOP_CALL")"
at_least "restart: the program is loaded from the database" 1 "$(metric jitevm_compile_cache_hits_total)"
at_least "restart: the first call runs compiled" 1 "$(metric "$COMPILED")"
check_eq "restart: nothing compiled again" 0 "$(metric jitevm_programs_compiled_total)"
if stop_server; then pass; else fail "restart server: exit status 0"; fi

# Another key: the stored program does not verify; it is refused, logged,
# compiled again, and the answers stay right.
start_server "$TMP/otherkey.log" --engine tiered --program-key 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
check "other key: first call" "$LOOP_RESULT" "$(rpc "$LOOP_CALL")"
at_least "other key: the stored program is rejected" 1 "$(metric jitevm_program_store_rejected_total)"
check_eq "other key: not loaded" 0 "$(metric jitevm_compile_cache_hits_total)"
at_least "other key: compiled again" 1 "$(wait_metric jitevm_programs_compiled_total 1)"
check "other key: the answer after compiling" "$LOOP_RESULT" "$(rpc "$LOOP_CALL")"
check "other key: the rejection is logged" "fails its integrity check" "$(cat "$TMP/otherkey.log")"
if stop_server; then pass; else fail "other-key server: exit status 0"; fi

start_server "$TMP/interp.log" --engine interp
check "interp: the answer" "$LOOP_RESULT" "$(rpc "$LOOP_CALL")"
check "interp: nothing compiled" "$LOOP_RESULT" "$(rpc "$LOOP_CALL")"
check_eq "interp: no compiled frames" 0 "$(metric "$COMPILED")"
at_least "interp: interpreted frames" 2 "$(metric 'jitevm_executions_total{tier="interpreter"}')"
if stop_server; then pass; else fail "interp server: exit status 0"; fi

# Refusals at start.
out=$("$JITEVM" serve --db "$DB" --listen 127.0.0.1:0 --engine bogus 2>&1)
check_eq "--engine bogus: exit status 2" 2 "$?"
check "--engine bogus: the message" "--engine: expected one of interp, jit, tiered, got 'bogus'" "$out"
out=$(JITEVM_ENGINE=fast "$JITEVM" serve --db "$DB" --listen 127.0.0.1:0 2>&1)
check_eq "JITEVM_ENGINE=fast: exit status 2" 2 "$?"
check "JITEVM_ENGINE=fast: the message" "JITEVM_ENGINE: expected one of interp, jit, tiered, got 'fast'" "$out"
out=$("$JITEVM" serve --db "$DB" --listen 127.0.0.1:0 --program-key abcd 2>&1)
check_eq "--program-key too short: exit status 2" 2 "$?"
check "--program-key too short: the message" "--program-key: expected 64 hex digits (32 bytes), got 4 characters" "$out"
chmod 644 "$DB.program-key"
out=$("$JITEVM" serve --db "$DB" --listen 127.0.0.1:0 2>&1)
check_eq "readable key file: exit status 1" 1 "$?"
check "readable key file: the message" "must not be accessible to group or others (chmod 600 $DB.program-key)" "$out"
chmod 600 "$DB.program-key"
out=$("$JITEVM" serve --db "$DB" --listen 127.0.0.1:0 --code-cache 100k 2>&1)
check_eq "--code-cache 100k: exit status 2" 2 "$?"
check "--code-cache 100k: the message" "--code-cache: expected a size from 1M to 64G" "$out"
out=$("$JITEVM" statetest --engine bogus "$TMP" 2>&1)
check_eq "statetest --engine bogus: exit status 2" 2 "$?"
check "statetest --engine bogus: the message" "unknown engine 'bogus' (known: interp, jit, tiered)" "$out"
out=$("$JITEVM" bench --engine bogus "$TMP" 2>&1)
check_eq "bench --engine bogus: exit status 2" 2 "$?"
check "bench --engine bogus: the message" "unknown engine 'bogus' (known: interp, jit, tiered)" "$out"

# bench --warm: a one-input benchmark (the contract returns its input
# word), checked against its recorded output, then timed warm.
mkdir -p "$TMP/bench/micro"
cat > "$TMP/bench/micro/echo.json" << 'EOF'
{"echo": {"_info": {"labels": {"0": "word"}},
  "env": {"currentBaseFee": "0x01", "currentCoinbase": "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b",
          "currentDifficulty": "0x01", "currentGasLimit": "0x3b9aca00", "currentNumber": "0x01",
          "currentRandom": "0x0000000000000000000000000000000000000000000000000000000000000001",
          "currentTimestamp": "0x61a8d289",
          "previousHash": "0x5e20a0453cecd065ea59c37ac63e079ee08998b6045136a8ce6635c7912ec0b6"},
  "pre": {"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b": {"balance": "0x3b9aca00", "code": "0x", "nonce": "0x00", "storage": {}},
          "0xbe7c43a580000000000000000000000000000001": {"balance": "0x00", "code": "0x60003560005260206000f3", "nonce": "0x00", "storage": {}}},
  "transaction": {"data": ["0x000000000000000000000000000000000000000000000000000000000000002a"], "gasLimit": ["0x3b9aca00"],
                  "gasPrice": "0x01", "nonce": "0x00", "sender": "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b",
                  "secretKey": "0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8",
                  "to": "0xbe7c43a580000000000000000000000000000001", "value": ["0x00"]},
  "post": {}}}
EOF
cat > "$TMP/bench/expected_outputs.json" << 'EOF'
{"micro/echo/word": {"status": "success", "gas_used": 21,
  "output": "0x000000000000000000000000000000000000000000000000000000000000002a"}}
EOF
out=$("$JITEVM" bench --warm --min-time 0 "$TMP/bench" 2>&1)
check_eq "bench --warm: exit status 0" 0 "$?"
check "bench --warm: the header says so" "warm (one state, executions back to back)" "$out"
check "bench --warm: the input's row" "micro/echo/word" "$out"
case $out in *error*|*warning*) fail "bench --warm: no error or warning" "" "$out" ;; *) pass ;; esac

echo "rpc-e2e: $N_BAD malformed requests in the bad-input table"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
