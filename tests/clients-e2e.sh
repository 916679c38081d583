#!/bin/sh
# The client libraries against a live `jitevm serve`, compared with anvil:
#  1. curl: the block, fee, node, history and trace methods of jitevm (their
#     answers, and every parameter malformed once);
#  2. tests/clients/compare.mjs: ethers v6 and viem against jitevm and
#     anvil loaded with the same state (a token's read, a simulated swap,
#     simulateContract, multicall, estimateContractGas, reverts decoded by
#     the libraries, getBlock, fee estimation) and 60 generated calls
#     traced by debug_traceCall's callTracer; every answer compared.
# Ends with "N passed, N failed"; exit status 1 when any failed.
#
# ethers, viem, solc (solc-js compiles tests/clients/Contracts.sol) and
# anvil come from npm, installed under build/clients (never committed),
# as tests/bench-rpc.sh installs anvil. Nothing but loopback is contacted
# once they are installed.
#
# Usage: sh tests/clients-e2e.sh [path/to/jitevm]
# Environment: ANVIL_VERSION (default 1.7.1).
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
[ -x "$JITEVM" ] || { echo "clients-e2e: no binary at $JITEVM"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)

# ---- tools
command -v curl > /dev/null || { echo "clients-e2e: curl is needed"; exit 1; }
command -v node > /dev/null && command -v npm > /dev/null ||
    { echo "clients-e2e: node and npm are needed (apt-get install nodejs npm)"; exit 1; }
NAME=clients-e2e
. "$(dirname "$0")/e2e-lib.sh"
install_clients

e2e_tmp clients
# The admin token: the server wants at least 128 bits.
TOKEN=clients-e2e-admin-token-0123456789abcdef

# jitevm: a Prague chain (as anvil's --hardfork prague), 30M gas, 1 gwei base fee.
prague_genesis "$TMP/genesis.json"
"$JITEVM" init --db "$TMP/db" --chain "$TMP/genesis.json" > /dev/null || exit 1
start_with_anvil "$TMP/db" "$TOKEN" 0
URL=$JURL
rpc() { curl -s -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" --data-binary "$1" "$URL"; }
call() { rpc "$(req "$1" "$2")"; }

# ------------------------------------------------------------ 1. curl
rpc "$(req jitevm_setBlock '[{"number":"0x10","timestamp":"0x6553f100","gasLimit":"0x1c9c380","baseFeePerGas":"0x3b9aca00","excessBlobGas":"0x0","prevRandao":"0x00000000000000000000000000000000000000000000000000000000000000aa"}]')" > /dev/null
B=$(call eth_getBlockByNumber '["latest",false]')
check "getBlockByNumber latest: number" '"number":"0x10"' "$B"
check "getBlockByNumber: timestamp" '"timestamp":"0x6553f100"' "$B"
check "getBlockByNumber: mixHash is prevRandao" '"mixHash":"0x00000000000000000000000000000000000000000000000000000000000000aa"' "$B"
check "getBlockByNumber: no transactions" '"transactions":[]' "$B"
check "getBlockByNumber: Prague requestsHash (no requests)" '"requestsHash":"0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"' "$B"
check "getBlockByNumber: empty withdrawals root" '"withdrawalsRoot":"0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"' "$B"
HASH=$(echo "$B" | sed -n 's/.*"hash":"\(0x[0-9a-f]*\)".*/\1/p')
check "getBlockByNumber 0x10 (the head) is latest" "\"hash\":\"$HASH\"" "$(call eth_getBlockByNumber '["0x10",true]')"
check "getBlockByNumber pending is the head" "\"hash\":\"$HASH\"" "$(call eth_getBlockByNumber '["pending",false]')"
check "getBlockByHash of the head" "\"number\":\"0x10\"" "$(call eth_getBlockByHash "[\"$HASH\",false]")"
check "getBlockByHash unknown: null" '"result":null' "$(call eth_getBlockByHash '["0x0000000000000000000000000000000000000000000000000000000000000001",false]')"
check "getBlockByNumber after the head: null" '"result":null' "$(call eth_getBlockByNumber '["0x11",false]')"
check "getBlockByNumber before the head: history" '"code":-32000,"message":"historical blocks are not available: block 15 is not the head (block 16)' "$(call eth_getBlockByNumber '["0xf",false]')"
check "getBlockByNumber earliest: history" 'block 0 is not the head' "$(call eth_getBlockByNumber '["earliest",false]')"
# Every parameter malformed once.
check "getBlockByNumber: no args" 'missing value for required argument 0' "$(call eth_getBlockByNumber '[]')"
check "getBlockByNumber: no fullTx" 'missing value for required argument 1' "$(call eth_getBlockByNumber '["latest"]')"
check "getBlockByNumber: fullTx not bool" 'invalid argument 1: json: cannot unmarshal string into Go value of type bool' "$(call eth_getBlockByNumber '["latest","yes"]')"
check "getBlockByNumber: bad tag" '"code":-32602,"message":"invalid argument 0:' "$(call eth_getBlockByNumber '["newest",false]')"
check "getBlockByNumber: number as JSON number" 'invalid argument 0: json: cannot unmarshal number into Go value of type rpc.BlockNumber' "$(call eth_getBlockByNumber '[16,false]')"
check "getBlockByNumber: too many args" 'too many arguments, want at most 2' "$(call eth_getBlockByNumber '["latest",false,1]')"
check "getBlockByHash: short hash" '"code":-32602,"message":"invalid argument 0:' "$(call eth_getBlockByHash '["0x1234",false]')"
check "getBlockByHash: no fullTx" 'missing value for required argument 1' "$(call eth_getBlockByHash "[\"$HASH\"]")"

F=$(call eth_feeHistory '["0x4","latest",[25,75]]')
check "feeHistory: the head only" '"oldestBlock":"0x10"' "$F"
check "feeHistory: base fees, the next from an empty head (-1/8)" '"baseFeePerGas":["0x3b9aca00","0x342770c0"]' "$F"
check "feeHistory: rewards of an empty block" '"reward":[["0x0","0x0"]]' "$F"
check "feeHistory: blob base fees" '"baseFeePerBlobGas":["0x1","0x1"]' "$F"
check "feeHistory: decimal count" '"oldestBlock":"0x10"' "$(call eth_feeHistory '["4","0x10"]')"
check "feeHistory: count as a number" '"oldestBlock":"0x10"' "$(call eth_feeHistory '[4,"latest"]')"
check "feeHistory: count 0" '"result":{"oldestBlock":"0x0"}' "$(call eth_feeHistory '["0x0","latest"]')"
check "feeHistory: bad count" 'invalid argument 0: json: cannot unmarshal' "$(call eth_feeHistory '["four","latest"]')"
check "feeHistory: no newest block" 'missing value for required argument 1' "$(call eth_feeHistory '["0x1"]')"
check "feeHistory: bad newest block" '"code":-32602,"message":"invalid argument 1:' "$(call eth_feeHistory '["0x1","soon"]')"
check "feeHistory: beyond the head" 'request beyond head block: requested 17, head 16' "$(call eth_feeHistory '["0x1","0x11"]')"
check "feeHistory: before the head" 'historical blocks are not available' "$(call eth_feeHistory '["0x1","0x1"]')"
check "feeHistory: percentiles not an array" 'invalid argument 2: json: cannot unmarshal string' "$(call eth_feeHistory '["0x1","latest","50"]')"
check "feeHistory: percentile above 100" 'invalid reward percentile: 101.000000' "$(call eth_feeHistory '["0x1","latest",[101]]')"
check "feeHistory: percentiles not ascending" 'invalid reward percentile: #0:50.000000 >= #1:10.000000' "$(call eth_feeHistory '["0x1","latest",[50,10]]')"
check "feeHistory: percentile not a number" 'invalid argument 2: json: cannot unmarshal string into Go value of type float64' "$(call eth_feeHistory '["0x1","latest",["x"]]')"

check "eth_syncing" '"result":false' "$(call eth_syncing '[]')"
check "eth_accounts" '"result":[]' "$(call eth_accounts '[]')"
check "eth_syncing: too many args" 'too many arguments, want at most 0' "$(call eth_syncing '[1]')"
for m in eth_getTransactionByHash eth_getTransactionReceipt eth_getLogs eth_newFilter eth_getFilterChanges eth_getBlockReceipts \
         eth_getBlockTransactionCountByNumber eth_getUncleCountByBlockNumber; do
    check "$m: state, not history" '"code":-32000,"message":"not available: jitevm serves state, not history' "$(call $m '[]')"
done
check "eth_sendRawTransaction: refused" '"code":-32000,"message":"not available: jitevm serves state, not history; it executes calls and accepts no transactions' \
    "$(call eth_sendRawTransaction '["0x02"]')"

# debug_traceCall (the comparison with anvil is in compare.mjs). The identity
# precompile: gasUsed is EIP-7623's floor, 21000 + 10 x 8 tokens (two nonzero bytes).
IDENTITY_CALL='{"to":"0x0000000000000000000000000000000000000004","input":"0x1234","gas":"0x10000"}'
T=$(call debug_traceCall "[$IDENTITY_CALL,\"latest\",{\"tracer\":\"callTracer\"}]")
check "traceCall: the top frame" '"type":"CALL","from":"0x0000000000000000000000000000000000000000","gas":"0x10000","gasUsed":"0x5258","to":"0x0000000000000000000000000000000000000004","input":"0x1234","value":"0x0","output":"0x1234"' "$T"
check "traceCall noopTracer" '"result":{}' "$(call debug_traceCall "[$IDENTITY_CALL,\"latest\",{\"tracer\":\"noopTracer\"}]")"
check "traceCall 4byteTracer: a precompile is not counted" '"result":{}' "$(call debug_traceCall "[$IDENTITY_CALL,\"latest\",{\"tracer\":\"4byteTracer\"}]")"
check "traceCall 4byteTracer: the call's own selector" '"result":{"0x12345678-2":1}' \
    "$(call debug_traceCall '[{"to":"0x000000000000000000000000000000000000c0de","input":"0x12345678abcd"},"latest",{"tracer":"4byteTracer"}]')"
check "traceCall: state overrides" '"output":"0x000000000000000000000000000000000000000000000000000000000000002a"' \
    "$(call debug_traceCall '[{"to":"0x000000000000000000000000000000000000c0de"},"latest",{"tracer":"callTracer","stateOverrides":{"0x000000000000000000000000000000000000c0de":{"code":"0x602a60005260206000f3"}}}]')"
check "traceCall: block overrides" '"output":"0x0000000000000000000000000000000000000000000000000000000000000777"' \
    "$(call debug_traceCall '[{"to":"0x000000000000000000000000000000000000c0de"},"latest",{"tracer":"callTracer","blockOverrides":{"number":"0x777"},"stateOverrides":{"0x000000000000000000000000000000000000c0de":{"code":"0x4360005260206000f3"}}}]')"
check "traceCall: the struct logger (tests/trace-e2e.sh tests it)" '"structLogs":[' "$(call debug_traceCall "[$IDENTITY_CALL]")"
check "traceCall: a tracer not served" 'tracer flatCallTracer is not served by jitevm' "$(call debug_traceCall "[$IDENTITY_CALL,\"latest\",{\"tracer\":\"flatCallTracer\"}]")"
check "traceCall: no args" 'missing value for required argument 0' "$(call debug_traceCall '[]')"
check "traceCall: bad tx" 'invalid argument 0: json: unknown field' "$(call debug_traceCall '[{"bogus":1}]')"
check "traceCall: bad block" '"code":-32602,"message":"invalid argument 1:' "$(call debug_traceCall "[$IDENTITY_CALL,\"soon\"]")"
check "traceCall: config not an object" 'invalid argument 2: json: cannot unmarshal string into Go value of type tracers.TraceCallConfig' "$(call debug_traceCall "[$IDENTITY_CALL,\"latest\",\"callTracer\"]")"
check "traceCall: tracer not a string" 'invalid argument 2: json: cannot unmarshal number into Go struct field TraceCallConfig.tracer of type string' "$(call debug_traceCall "[$IDENTITY_CALL,\"latest\",{\"tracer\":1}]")"
check "traceCall: onlyTopCall not a bool" 'cannot unmarshal string into Go struct field callTracerConfig.onlyTopCall of type bool' "$(call debug_traceCall "[$IDENTITY_CALL,\"latest\",{\"tracer\":\"callTracer\",\"tracerConfig\":{\"onlyTopCall\":\"yes\"}}]")"
check "traceCall: bad state override" '"code":-32602,"message":"invalid argument 2:' "$(call debug_traceCall "[$IDENTITY_CALL,\"latest\",{\"tracer\":\"callTracer\",\"stateOverrides\":{\"0x12\":{}}}]")"
check "traceCall: bad block override" '"code":-32602,"message":"invalid argument 2:' "$(call debug_traceCall "[$IDENTITY_CALL,\"latest\",{\"tracer\":\"callTracer\",\"blockOverrides\":{\"number\":\"x\"}}]")"
check "traceCall: timeout not a string" 'TraceCallConfig.timeout of type string' "$(call debug_traceCall "[$IDENTITY_CALL,\"latest\",{\"tracer\":\"callTracer\",\"timeout\":5}]")"
check "traceCall: too many args" 'too many arguments, want at most 3' "$(call debug_traceCall "[$IDENTITY_CALL,\"latest\",{},1]")"
check "traceCall: history" 'historical state not available' "$(call debug_traceCall "[$IDENTITY_CALL,\"0x1\",{\"tracer\":\"callTracer\"}]")"

# ------------------------------------------------------------ 2. the libraries
# Back to a head anvil's can match (compare.mjs sets the rest).
rpc "$(req jitevm_setBlock '[{"number":"0x0"}]')" > /dev/null
if node "$HERE/clients/compare.mjs" "$CLIENTS_DIR" "$URL" "$TOKEN" "$AURL" > "$TMP/compare.out" 2>&1; then
    pass
else
    fail "ethers/viem answers compared with anvil's (see above)"
fi
cat "$TMP/compare.out"

echo "clients-e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
