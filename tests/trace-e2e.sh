#!/bin/sh
# debug_traceCall and eth_createAccessList against a live `jitevm serve`:
#  1. tests/trace/compare.mjs: generated scenarios (at least 50 per tracer:
#     callTracer, prestateTracer plain and diffMode, the struct logger; and
#     eth_createAccessList with and without a caller's list) on jitevm and
#     on anvil loaded with the same state; identical answers but for the
#     documented departures of anvil from geth, which it lists;
#  2. curl: the options' effects (limit, the memory bound, timeout, a call
#     refused for its balance) and every parameter malformed once.
# Ends with "N passed, N failed"; exit status 1 when any failed.
#
# solc and anvil come from npm, installed under build/clients as
# tests/clients-e2e.sh installs them (the same packages); nothing but
# loopback is contacted once they are installed.
#
# Usage: sh tests/trace-e2e.sh [path/to/jitevm]
# Environment: ANVIL_VERSION (default 1.7.1).
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
[ -x "$JITEVM" ] || { echo "trace-e2e: no binary at $JITEVM"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)

command -v curl > /dev/null || { echo "trace-e2e: curl is needed"; exit 1; }
command -v node > /dev/null && command -v npm > /dev/null ||
    { echo "trace-e2e: node and npm are needed (apt-get install nodejs npm)"; exit 1; }
NAME=trace-e2e
. "$HERE/e2e-lib.sh"
install_clients

e2e_tmp trace
TOKEN=trace-e2e-admin-token-0123456789abcdef
prague_genesis "$TMP/genesis.json"
"$JITEVM" init --db "$TMP/db" --chain "$TMP/genesis.json" > /dev/null || exit 1
start_with_anvil "$TMP/db" "$TOKEN" 11
URL=$JURL
rpc() { curl -s --max-time 60 -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" --data-binary "$1" "$URL"; }
call() { rpc "$(req "$1" "$2")"; }

# ------------------------------------------------------------ 1. against anvil
# compare.mjs loads the contracts (the vault at 0x..a0005, the prober at
# 0x..a0006) into both servers; the curl checks below use them too.
if node "$HERE/trace/compare.mjs" "$CLIENTS_DIR" "$JURL" "$TOKEN" "$AURL" > "$TMP/compare.out" 2>&1; then
    pass
else
    fail "trace/compare.mjs: jitevm's traces differ from anvil's"
fi
cat "$TMP/compare.out"

# ------------------------------------------------------------ 2. curl
SENDER=0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266
VAULT=0x00000000000000000000000000000000000a0005
PROBER=0x00000000000000000000000000000000000a0006
# Vault.spin(n) (selector 0x24a084df... is computed by compare.mjs; here by solc's ABI: spin(uint256)).
SPIN=$(node -e 'const r=require(process.argv[1]+"/node_modules/ethers");console.log(new r.Interface(["function spin(uint256)"]).encodeFunctionData("spin",[BigInt(process.argv[2])]))' "$CLIENTS_DIR" 20000000)
SPIN_SMALL=$(node -e 'const r=require(process.argv[1]+"/node_modules/ethers");console.log(new r.Interface(["function spin(uint256)"]).encodeFunctionData("spin",[5n]))' "$CLIENTS_DIR")
SEND=$(node -e 'const r=require(process.argv[1]+"/node_modules/ethers");console.log(new r.Interface(["function sendValue(address,uint256)"]).encodeFunctionData("sendValue",["0x000000000000000000000000000000000000beef",10n**21n]))' "$CLIENTS_DIR")
SMALL_TX="{\"from\":\"$SENDER\",\"to\":\"$VAULT\",\"data\":\"$SPIN_SMALL\",\"gas\":\"0x1e8480\"}"

# The options' effects.
R=$(call debug_traceCall "[$SMALL_TX,\"latest\",{}]")
check "struct logger: steps" '"structLogs":[{"pc":0,"op":"PUSH1","gas":' "$R"
check "struct logger: result fields" '"failed":false,"returnValue":"0x' "$R"
ALL=$(echo "$R" | grep -o '"pc":' | wc -l)
R=$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"limit\":1000}]")
SOME=$(echo "$R" | grep -o '"pc":' | wc -l)
if [ "$SOME" -gt 0 ] && [ "$SOME" -lt "$ALL" ] && [ "$SOME" -lt 20 ]; then pass; else fail "limit 1000 (bytes of steps, as geth counts): $SOME of $ALL steps"; fi
R=$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"limit\":-1}]")
check "limit below zero: no steps (geth: the size already exceeds it)" '"structLogs":[]' "$R"
R=$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"disableStack\":true,\"enableMemory\":true,\"enableReturnData\":true}]")
case $R in *'"stack"'*) fail "disableStack leaves the stack out" "" "$(echo "$R" | cut -c1-300)" ;; *) pass ;; esac
check "enableMemory: 32-byte words" '"memory":["0x' "$R"
R=$(call debug_traceCall "[{\"from\":\"$SENDER\",\"to\":\"$VAULT\",\"data\":\"$SPIN\",\"gas\":\"0x1c9c380\"},\"latest\",{\"enableMemory\":true}]")
check "the memory bound: a trace past 32 MiB is refused" '"code":-32000,"message":"trace too large: the struct logs passed 32 MiB' "$R"
R=$(call debug_traceCall "[{\"from\":\"$SENDER\",\"to\":\"$VAULT\",\"data\":\"$SPIN\",\"gas\":\"0x1c9c380\"},\"latest\",{\"tracer\":\"callTracer\",\"timeout\":\"2ms\"}]")
check "timeout 2ms (a 30M-gas loop): geth's words" '"code":-32000,"message":"execution timeout"' "$R"
R=$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"tracer\":\"callTracer\",\"timeout\":\"-1s\"}]")
check "timeout already past" '"message":"execution timeout"' "$R"
R=$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"tracer\":\"callTracer\",\"timeout\":\"1m30.5s\"}]")
check "timeout 1m30.5s: the trace" '"type":"CALL"' "$R"
R=$(call debug_traceCall "[{\"from\":\"$SENDER\",\"to\":\"$PROBER\",\"data\":\"$SEND\",\"gas\":\"0x1e8480\"},\"latest\",{\"tracer\":\"callTracer\"}]")
check "a call refused for its balance: geth's frame" '"error":"insufficient balance for transfer"' "$R"
check "a call refused for its balance: no gas used" '"gasUsed":"0x0","to":"0x000000000000000000000000000000000000beef"' "$R"
R=$(call debug_traceCall "[{\"from\":\"$SENDER\",\"to\":\"$VAULT\",\"value\":\"0xffffffffffffffffffffffffffff\"},\"latest\",{\"tracer\":\"prestateTracer\"}]")
check "a transaction refused before it runs: tracing failed" '"code":-32000,"message":"tracing failed: insufficient funds for gas * price + value' "$R"
R=$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"tracer\":\"prestateTracer\",\"tracerConfig\":{\"includeEmpty\":true}}]")
check "prestateTracer includeEmpty: the empty coinbase stays" '"0x0000000000000000000000000000000000000000":{"balance":"0x0"}' "$R"
R=$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"tracer\":\"prestateTracer\"}]")
case $R in *'"0x0000000000000000000000000000000000000000"'*) fail "prestateTracer drops empty accounts" "" "$R" ;; *) pass ;; esac
# Failures in geth's words, on the failing step and on the frame.
EXHAUST=$(node -e 'const r=require(process.argv[1]+"/node_modules/ethers");console.log(new r.Interface(["function exhaust()"]).encodeFunctionData("exhaust",[]))' "$CLIENTS_DIR")
INVALID_OP=$(node -e 'const r=require(process.argv[1]+"/node_modules/ethers");console.log(new r.Interface(["function invalidOp()"]).encodeFunctionData("invalidOp",[]))' "$CLIENTS_DIR")
for tracer in '{}' '{"tracer":"callTracer"}'; do
    R=$(call debug_traceCall "[{\"from\":\"$SENDER\",\"to\":\"$VAULT\",\"data\":\"$EXHAUST\",\"gas\":\"0x30d40\"},\"latest\",$tracer]")
    check "SSTORE at the EIP-2200 sentry ($tracer)" '"error":"out of gas: not enough gas for reentrancy sentry"' "$R"
    R=$(call debug_traceCall "[{\"from\":\"$SENDER\",\"to\":\"$VAULT\",\"data\":\"$INVALID_OP\",\"gas\":\"0x30d40\"},\"latest\",$tracer]")
    check "INVALID ($tracer)" '"error":"invalid opcode: INVALID"' "$R"
done
R=$(call debug_traceCall "[{\"from\":\"$SENDER\",\"to\":\"0x000000000000000000000000000000000000c0de\",\"gas\":\"0x30d40\"},\"latest\",{\"tracer\":\"callTracer\",\"stateOverrides\":{\"0x000000000000000000000000000000000000c0de\":{\"code\":\"0x01\"}}}]")
check "stack underflow (callTracer)" '"error":"stack underflow (0 <=> 2)"' "$R"

# An SLOAD that runs out of gas looks nothing up (geth's hook carries the
# error): the account is there (its code), its slot is not.
OOG_SLOAD="{\"from\":\"$SENDER\",\"to\":\"0x000000000000000000000000000000000000c0de\",\"gas\":\"0x526f\"},\"latest\",{\"tracer\":\"prestateTracer\",\"stateOverrides\":{\"0x000000000000000000000000000000000000c0de\":{\"code\":\"0x60075400\"}}}"
R=$(call debug_traceCall "[$OOG_SLOAD]")
check "prestateTracer: an SLOAD out of gas" '"0x000000000000000000000000000000000000c0de":{"balance":"0x0","code":"0x60075400","codeHash":' "$R"
case $R in *'"storage"'*) fail "prestateTracer: the failed SLOAD's slot is left out" "" "$R" ;; *) pass ;; esac
# Go's encoding/json matches keys without regard to case, so geth does.
# An instruction out of gas: the struct logger's gasCost is what geth's
# interpreter had computed when its check failed (core/vm/interpreter.go):
# the static cost when that fails; static plus the whole dynamic cost (its
# memory, per-word and per-byte parts, cold surcharge) when the dynamic
# charge fails; the static cost alone, with "out of gas: out of gas", when
# the dynamic-gas function stops early (the CALL family's cold access and
# intrinsic gas, EIP-7702's form from Prague; SELFDESTRUCT's cold access).
# Checked against geth's source: anvil (revm) reports the gas that was left
# instead (printed below for each case). Expected costs from the formulas,
# here in Python.
OOG_AT=0x000000000000000000000000000000000000c0de
MEM='m=lambda w:3*w+w*w//512;wc=lambda b:(b+31)//32'
last_step() { # code gas URL: the last struct-log step, compact JSON
    curl -s --max-time 60 -H 'Content-Type: application/json' --data-binary "$(req debug_traceCall "[{\"from\":\"0x00000000000000000000000000000000000000aa\",\"to\":\"$OOG_AT\",\"gas\":\"$2\"},\"latest\",{\"disableStack\":true,\"disableStorage\":true,\"stateOverrides\":{\"$OOG_AT\":{\"code\":\"$1\"}}}]")" "$3" |
        python3 -c 'import json, sys; r = json.load(sys.stdin)["result"]["structLogs"][-1]; r.pop("refund", None); print(json.dumps(r, separators=(",", ":")))'
}
for case in \
    "MSTORE-memory|0x5f62ffffff5200|0x61a8|MSTORE|3+m(wc(0xffffff+32))|out of gas" \
    "CALLDATACOPY-memory-and-words|0x6110005f62ffff003700|0x61a8|CALLDATACOPY|3+m(wc(0xffff00+0x1000))+3*wc(0x1000)|out of gas" \
    "KECCAK256-words|0x6110005f2000|0x5260|KECCAK256|30+m(wc(0x1000))+6*wc(0x1000)|out of gas" \
    "LOG2-all-dynamic|0x5f5f61100062ffff00a200|0x61a8|LOG2|375+2*375+m(wc(0xffff00+0x1000))+8*0x1000|out of gas" \
    "SSTORE-cold-set|0x60015f5500|0x6a30|SSTORE|2100+20000|out of gas" \
    "CALL-static|0x5f5f5f5f5f61beef61fffff100|0x5224|CALL|100|out of gas" \
    "CALL-cold-access|0x5f5f5f5f5f61beef61fffff100|0x5608|CALL|100|out of gas: out of gas" \
    "CALL-value-to-new-account|0x5f5f5f5f600161beef61fffff100|0x7530|CALL|100|out of gas: out of gas" \
    "SELFDESTRUCT-static|0x61beefff|0x6000|SELFDESTRUCT|5000|out of gas" \
    "SELFDESTRUCT-cold-access|0x61beefff|0x697b|SELFDESTRUCT|5000|out of gas: out of gas"; do
    what=${case%%|*}; rest=${case#*|}
    code=${rest%%|*}; rest=${rest#*|}
    gas=${rest%%|*}; rest=${rest#*|}
    op=${rest%%|*}; rest=${rest#*|}
    formula=${rest%%|*}; err=${rest#*|}
    want=$(python3 -c "$MEM; print($formula)")
    R=$(last_step "$code" "$gas" "$JURL")
    check "struct logger, $what: the failing step" "\"op\":\"$op\",\"gas\":" "$R"
    check "struct logger, $what: geth's gasCost $want and error" "\"gasCost\":$want,\"depth\":1,\"error\":\"$err\"}" "$R"
    echo "  anvil, $what: $(last_step "$code" "$gas" "$AURL" | sed 's/.*"gasCost":\([0-9]*\).*/gasCost \1/')"
done
# eth_call names the same error (geth's frame error is the wrapped one).
R=$(call eth_call "[{\"from\":\"0x00000000000000000000000000000000000000aa\",\"to\":\"$OOG_AT\",\"gas\":\"0x5608\"},\"latest\",{\"$OOG_AT\":{\"code\":\"0x5f5f5f5f5f61beef61fffff100\"}}]")
check "eth_call: a CALL that cannot pay its cold access" '"message":"out of gas: out of gas"' "$R"

R=$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"Tracer\":\"callTracer\",\"TracerConfig\":{\"ONLYTOPCALL\":true}}]")
check "config keys in any case (Go's json)" '"type":"CALL"' "$R"
R=$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"EnableMemory\":true}]")
check "EnableMemory as geth's Go name" '"memory":["0x' "$R"
R=$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"tracer\":\"noopTracer\"}]")
check "noopTracer" '"result":{}' "$R"

# Every parameter malformed once.
check "no arguments" '"code":-32602,"message":"missing value for required argument 0"' "$(call debug_traceCall '[]')"
check "tx not an object" '"code":-32602,"message":"invalid argument 0:' "$(call debug_traceCall '["0x1"]')"
check "tx: bad address" '"code":-32602,"message":"invalid argument 0:' "$(call debug_traceCall '[{"to":"0x12"}]')"
check "block: bad tag" '"code":-32602,"message":"invalid argument 1:' "$(call debug_traceCall "[$SMALL_TX,\"newest\"]")"
check "block: not the head" '"code":-32000' "$(call debug_traceCall "[$SMALL_TX,\"0x99\"]")"
check "config not an object" 'invalid argument 2: json: cannot unmarshal string into Go value of type tracers.TraceCallConfig' "$(call debug_traceCall "[$SMALL_TX,\"latest\",\"x\"]")"
check "tracer not a string" 'invalid argument 2: json: cannot unmarshal number into Go struct field TraceCallConfig.tracer of type string' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"tracer\":1}]")"
check "unknown tracer" '"code":-32000,"message":"tracer flatCallTracer is not served by jitevm' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"tracer\":\"flatCallTracer\"}]")"
for opt in enableMemory disableStack disableStorage enableReturnData; do
    check "$opt not a bool" "invalid argument 2: json: cannot unmarshal string into Go struct field TraceCallConfig.$opt of type bool" \
        "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"$opt\":\"yes\"}]")"
done
check "limit a string" 'invalid argument 2: json: cannot unmarshal string into Go struct field TraceCallConfig.limit of type int' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"limit\":\"10\"}]")"
check "limit a fraction" 'invalid argument 2: json: cannot unmarshal number 1.5 into Go struct field TraceCallConfig.limit of type int' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"limit\":1.5}]")"
check "timeout a number" 'invalid argument 2: json: cannot unmarshal number into Go struct field TraceCallConfig.timeout of type string' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"timeout\":5}]")"
check "timeout without unit" '"code":-32000,"message":"time: missing unit in duration \"5\""' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"timeout\":\"5\"}]")"
check "timeout unknown unit" '"code":-32000,"message":"time: unknown unit \"x\" in duration \"5x\""' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"timeout\":\"5x\"}]")"
check "timeout empty" '"code":-32000,"message":"time: invalid duration \"\""' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"timeout\":\"\"}]")"
check "timeout garbage" '"code":-32000,"message":"time: invalid duration \"abc\""' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"timeout\":\"abc\"}]")"
check "callTracer config not an object" '"code":-32000,"message":"json: cannot unmarshal array into Go value of type native.callTracerConfig"' \
    "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"tracer\":\"callTracer\",\"tracerConfig\":[]}]")"
for opt in onlyTopCall withLog; do
    check "callTracer $opt not a bool" "json: cannot unmarshal number into Go struct field callTracerConfig.$opt of type bool" \
        "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"tracer\":\"callTracer\",\"tracerConfig\":{\"$opt\":1}}]")"
done
check "prestateTracer config not an object" 'json: cannot unmarshal string into Go value of type native.PrestateTracerConfig' \
    "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"tracer\":\"prestateTracer\",\"tracerConfig\":\"x\"}]")"
for opt in diffMode disableCode disableStorage includeEmpty; do
    check "prestateTracer $opt not a bool" "json: cannot unmarshal string into Go struct field PrestateTracerConfig.$opt of type bool" \
        "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"tracer\":\"prestateTracer\",\"tracerConfig\":{\"$opt\":\"no\"}}]")"
done
check "diffMode with includeEmpty" '"code":-32000,"message":"cannot use diffMode with includeEmpty"' \
    "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"tracer\":\"prestateTracer\",\"tracerConfig\":{\"diffMode\":true,\"includeEmpty\":true}}]")"
check "stateOverrides malformed" '"code":-32602,"message":"invalid argument 2:' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"stateOverrides\":{\"0x12\":{}}}]")"
check "blockOverrides malformed" '"code":-32602,"message":"invalid argument 2:' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"blockOverrides\":{\"number\":\"x\"}}]")"
check "pending refused, as geth" '"code":-32000,"message":"tracing on top of pending is not supported"' "$(call debug_traceCall "[$SMALL_TX,\"pending\"]")"
check "txIndex not a string" 'cannot unmarshal non-string into Go struct field TraceCallConfig.TxIndex of type hexutil.Uint' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"txIndex\":1}]")"
check "txIndex: not served" '"code":-32000,"message":"txIndex is not served' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{\"txIndex\":\"0x0\"}]")"
check "too many arguments" '"code":-32602,"message":"too many arguments, want at most 3"' "$(call debug_traceCall "[$SMALL_TX,\"latest\",{},1]")"

echo "trace-e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
