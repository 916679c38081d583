#!/bin/sh
# The results written as JSON text (eth_call, eth_chainId, eth_getBalance:
# rpc_result_hex_bytes, rpc_result_quantity) against anvil, whole answers
# byte for byte: balances at the edges of the 64-bit fast path (0, 0xf,
# 0x10, 2^64-1, 2^64, 2^256-1), call outputs of 0, 1, 32, 256 (the largest
# kept as text) and 257 bytes (built as a jansson value), and a batch in
# which a failing call sits between two that answer as text (its element
# carries the error alone, the next one its own result).
#
# Usage: sh tests/text-results-e2e.sh [path/to/jitevm]
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
NAME=text-results-e2e
set -e
. "$(dirname "$0")/e2e-lib.sh"
install_anvil
e2e_tmp text-results
ADMIN=text-results-token-0123456789abcdef01234

prague_genesis "$TMP/genesis.json"
"$JITEVM" init --db "$TMP/t.db" --chain "$TMP/genesis.json" > /dev/null
start_with_anvil "$TMP/t.db" "$ADMIN"
jpost() { curl -s --max-time 60 -H 'Content-Type: application/json' -H "Authorization: Bearer $ADMIN" --data-binary "$1" "$JURL"; }
both() { jpost "$1" > /dev/null; post "$AURL" "$1" > /dev/null; }
# same LABEL BODY: the whole answers agree.
same() {
    j=$(jpost "$2")
    a=$(post "$AURL" "$2")
    if [ "$j" = "$a" ]; then pass; else fail "$1" "$a" "$j"; fi
}

same "eth_chainId" "$(req eth_chainId '[]')"
WHO=0x00000000000000000000000000000000000b0b0b
for v in 0x0 0xf 0x10 0xffffffff 0xffffffffffffffff 0x10000000000000000 \
    0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff; do
    both "$(req anvil_setBalance "[\"$WHO\",\"$v\"]")"
    same "eth_getBalance $v" "$(req eth_getBalance "[\"$WHO\",\"latest\"]")"
    case $(jpost "$(req eth_getBalance "[\"$WHO\",\"latest\"]")") in
    *"\"result\":\"$v\""*) pass ;;
    *) fail "eth_getBalance reads back $v" ;;
    esac
done

# Contracts returning N bytes of memory (zeros past what they store; the
# first word set to 0x..abcd so that the digits are not all zero):
# PUSH2 0xabcd PUSH1 0 MSTORE PUSH2 N PUSH1 0 RETURN.
for n in 0 1 32 256 257; do
    addr=$(printf '0x00000000000000000000000000000000000c%04x' "$n")
    code=$(printf '0x61abcd60005261%04x6000f3' "$n")
    both "$(req anvil_setCode "[\"$addr\",\"$code\"]")"
    same "eth_call returning $n bytes" "$(req eth_call "[{\"to\":\"$addr\"},\"latest\"]")"
done

# A revert between two text results, in a batch: the failing element has
# the error alone, its neighbours their own results.
REVERTS=0x00000000000000000000000000000000000cdead
both "$(req anvil_setCode "[\"$REVERTS\",\"0x60006000fd\"]")"
CALL32='{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x00000000000000000000000000000000000c0020"},"latest"]}'
CALLBAD="{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"eth_call\",\"params\":[{\"to\":\"$REVERTS\"},\"latest\"]}"
CHAIN='{"jsonrpc":"2.0","id":3,"method":"eth_chainId","params":[]}'
batch=$(jpost "[$CALL32,$CALLBAD,$CHAIN]")
one=$(jpost "$CALL32")
chain=$(jpost "$CHAIN")
expected="[$one,"
case $batch in "$expected"*) pass ;; *) fail "batch: first element" "$expected..." "$batch" ;; esac
case $batch in *",$chain]") pass ;; *) fail "batch: last element" "...,$chain]" "$batch" ;; esac
middle=${batch#"$expected"}
middle=${middle%",$chain]"}
case $middle in '{"jsonrpc":"2.0","id":2,"error":{'*) pass ;; *) fail "batch: the reverted call's element is an error" '{"jsonrpc":"2.0","id":2,"error":{...' "$middle" ;; esac
case $middle in *'"result"'*) fail "batch: the reverted call's element carries a result" "" "$middle" ;; *) pass ;; esac

echo "$NAME: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
