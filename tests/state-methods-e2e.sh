#!/bin/sh
# End-to-end tests of eth_getProof, eth_getStorageValues and eth_config
# against a real `jitevm serve` and a real anvil (npm) on the same state:
#  1. tests/state_methods_check.py: a state made on anvil and copied into
#     jitevm; eth_getProof answers compared with anvil's (accounts with and
#     without storage, several keys, absent slots and accounts) and every
#     proof walked independently to the stateRoot of anvil's block (keccak
#     and RLP written in the script); eth_getStorageValues against anvil's;
#     `jitevm root` against that stateRoot;
#  2. every parameter of the three methods malformed once (JSON-RPC errors);
#  3. eth_config through each fork of a chain scheduled by timestamps
#     (Shanghai, Cancun, Prague, Osaka, a blob-parameter-only fork): current,
#     next and last, and the current fork's precompiles, system contracts and
#     blob schedule compared with anvil's eth_config at that hardfork;
#  4. eth_getProof on a live database (one forked from anvil): anvil's own.
# Ends with "N passed, N failed"; exit status 1 when any failed.
#
# Usage: sh tests/state-methods-e2e.sh [path/to/jitevm]
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
[ -x "$JITEVM" ] || { echo "state-methods-e2e: no binary at $JITEVM"; exit 1; }
command -v curl > /dev/null || { echo "state-methods-e2e: curl is needed"; exit 1; }
command -v python3 > /dev/null || { echo "state-methods-e2e: python3 is needed"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=state-methods-e2e
. "$HERE/e2e-lib.sh"
install_anvil
e2e_tmp state
TOKEN=state-methods-e2e-admin-token-0123456789

# start_anvil HARDFORK SALT: anvil with no dev accounts on a free port; sets
# APID, AURL. A port taken meanwhile (by another test's server) is retried.
start_anvil() {
    [ -n "$APID" ] && kill "$APID" 2> /dev/null && wait "$APID" 2> /dev/null
    APID=
    for attempt in 0 1 2 3 4; do
        APORT=$(free_port $(($2 * 7 + attempt * 101)))
        "$ANVIL" --port "$APORT" --hardfork "$1" --accounts 0 --silent > "$TMP/anvil.log" 2>&1 &
        APID=$!
        AURL=http://127.0.0.1:$APORT/
        i=0
        while kill -0 "$APID" 2> /dev/null && [ $i -lt 300 ]; do
            # Answered, and by this anvil (one that failed to bind has exited).
            curl -s -o /dev/null "$AURL" && sleep 0.2 && kill -0 "$APID" 2> /dev/null && return 0
            i=$((i + 1))
            sleep 0.1
        done
        kill "$APID" 2> /dev/null
        wait "$APID" 2> /dev/null
    done
    echo "$NAME: anvil did not start:"
    cat "$TMP/anvil.log"
    exit 1
}
rpc() { curl -s -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" --data-binary "$1" "$URL"; }
call() { rpc "$(req "$1" "$2")"; }
check_eq() { if [ "$2" = "$3" ]; then pass; else fail "$1" "$2" "$3"; fi; }

# ------------------------------------------------ 1. proofs against anvil
prague_genesis "$TMP/genesis.json"
DB=$TMP/state.db
"$JITEVM" init --db "$DB" --chain "$TMP/genesis.json" > /dev/null || exit 1
serve_db "$TMP/serve.log" --admin --admin-token "$TOKEN" --log-level warn
start_anvil prague 1
python3 "$HERE/state_methods_check.py" "$URL" "$AURL" "$TOKEN" "$TMP/root" > "$TMP/check.log" 2>&1
grep '^FAIL' "$TMP/check.log"
COUNTS=$(sed -n 's/^py: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$TMP/check.log")
if [ -z "$COUNTS" ]; then
    fail "state_methods_check.py ran to its end" "py: N passed, N failed" "$(tail -5 "$TMP/check.log")"
else
    PASSED=$((PASSED + ${COUNTS% *}))
    FAILED=$((FAILED + ${COUNTS#* }))
fi
check_eq "jitevm root is anvil's block stateRoot" "$(cat "$TMP/root")" "$("$JITEVM" root --db "$DB")"
# The head block's stateRoot is the stored trie's root: anvil's block's, by
# number and by hash; after an admin write, the new root (`jitevm root`).
field() { printf '%s' "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['result']['$2'])"; }
HEAD=$(call eth_getBlockByNumber '["latest",false]')
check_eq "eth_getBlockByNumber: the head's stateRoot is anvil's block's" "$(cat "$TMP/root")" "$(field "$HEAD" stateRoot)"
check_eq "eth_getBlockByHash: the same stateRoot" "$(cat "$TMP/root")" "$(field "$(call eth_getBlockByHash "[\"$(field "$HEAD" hash)\",false]")" stateRoot)"
call anvil_setStorageAt '["0x000000000000000000000000000000000000c0de","0x1","0x000000000000000000000000000000000000000000000000000000000000002a"]' > /dev/null
AFTER=$(field "$(call eth_getBlockByNumber '["latest",false]')" stateRoot)
check_eq "after an admin write: the new root, as jitevm root computes it" "$("$JITEVM" root --db "$DB")" "$AFTER"
check "after an admin write: the root changed" "ok" "$([ "$AFTER" != "$(cat "$TMP/root")" ] && echo ok)"

# ------------------------------------------ 2. every parameter malformed
A=0x000000000000000000000000000000000000c000
K=0x0000000000000000000000000000000000000000000000000000000000000001
check "getProof: no args" '"code":-32602,"message":"missing value for required argument 0"' "$(call eth_getProof '[]')"
check "getProof: no keys" '"code":-32602,"message":"missing value for required argument 1"' "$(call eth_getProof "[\"$A\"]")"
check "getProof: bad address" '"code":-32602,"message":"invalid argument 0: hex string has length 4, want 40 for common.Address"' "$(call eth_getProof '["0x1234",[]]')"
check "getProof: address not a string" '"code":-32602,"message":"invalid argument 0: json: cannot unmarshal non-string into Go value of type common.Address"' "$(call eth_getProof '[1,[]]')"
check "getProof: keys not an array" '"code":-32602,"message":"invalid argument 1: json: cannot unmarshal string into Go value of type []string"' "$(call eth_getProof "[\"$A\",\"$K\"]")"
check "getProof: key not a string" '"code":-32602,"message":"invalid argument 1: json: cannot unmarshal number into Go value of type string"' "$(call eth_getProof "[\"$A\",[1]]")"
check "getProof: key too long" '"code":-32602,"message":"storage key too long (want at most 32 bytes): \"0x000000000000000000000000000000000000000000000000000000000000000001\""' "$(call eth_getProof "[\"$A\",[\"0x000000000000000000000000000000000000000000000000000000000000000001\"]]")"
check "getProof: key not hex" '"code":-32602,"message":"invalid hex in storage key: \"0xzz\""' "$(call eth_getProof "[\"$A\",[\"0xzz\"]]")"
check "getProof: bad block" '"code":-32602,"message":"invalid argument 2:' "$(call eth_getProof "[\"$A\",[],\"newest\"]")"
check "getProof: a later block" '"code":-32000,"message":"header not found"' "$(call eth_getProof "[\"$A\",[],\"0x100\"]")"
check "getProof: too many args" '"code":-32602,"message":"too many arguments, want at most 3"' "$(call eth_getProof "[\"$A\",[],\"latest\",1]")"
KEYS=$(python3 -c 'print(",".join("\"0x%x\"" % i for i in range(1025)))')
check "getProof: 1025 keys" '"code":-32602,"message":"too many storage keys requested (max 1024, got 1025)"' "$(call eth_getProof "[\"$A\",[$KEYS]]")"
check "getProof: block by EIP-1898 number" '"storageProof":[]' "$(call eth_getProof "[\"$A\",[],{\"blockNumber\":\"0x0\"}]")"
check "getStorageValues: no args" '"code":-32602,"message":"missing value for required argument 0"' "$(call eth_getStorageValues '[]')"
check "getStorageValues: not an object" '"code":-32602,"message":"invalid argument 0: json: cannot unmarshal array into Go value of type map[common.Address][]common.Hash"' "$(call eth_getStorageValues '[[]]')"
check "getStorageValues: bad address key" '"code":-32602,"message":"invalid argument 0:' "$(call eth_getStorageValues "[{\"0x12\":[\"$K\"]}]")"
check "getStorageValues: keys not an array" '"code":-32602,"message":"invalid argument 0: json: cannot unmarshal string into Go value of type []common.Hash"' "$(call eth_getStorageValues "[{\"$A\":\"$K\"}]")"
check "getStorageValues: short key" '"code":-32602,"message":"invalid argument 0: hex string has length 2, want 64 for common.Hash"' "$(call eth_getStorageValues "[{\"$A\":[\"0x01\"]}]")"
check "getStorageValues: empty request" '"code":-32602,"message":"empty request"' "$(call eth_getStorageValues '[{},"latest"]')"
check "getStorageValues: no slots" '"code":-32602,"message":"empty request"' "$(call eth_getStorageValues "[{\"$A\":[]}]")"
check "getStorageValues: bad block" '"code":-32602,"message":"invalid argument 1:' "$(call eth_getStorageValues "[{\"$A\":[\"$K\"]},\"newest\"]")"
check "getStorageValues: too many args" '"code":-32602,"message":"too many arguments, want at most 2"' "$(call eth_getStorageValues "[{\"$A\":[\"$K\"]},\"latest\",1]")"
SLOTS=$(python3 -c 'print(",".join("\"0x%064x\"" % i for i in range(1025)))')
check "getStorageValues: 1025 slots" '"code":-38026,"message":"too many slots (max 1024)"' "$(call eth_getStorageValues "[{\"$A\":[$SLOTS]}]")"
Z=0x0000000000000000000000000000000000000000000000000000000000000000
check "getStorageValues: one address in two spellings: the later list (as geth's map)" "{\"result\":{\"$A\":[\"$Z\"]}" "$(call eth_getStorageValues "[{\"$A\":[\"$K\",\"$K\"],\"0x000000000000000000000000000000000000C000\":[\"$K\"]}]" | sed 's/"jsonrpc":"2.0","id":1,//')"
check "getStorageValues: default block" "{\"$A\":[\"0x" "$(call eth_getStorageValues "[{\"$A\":[\"$K\"]}]")"
check "eth_config: takes no args" '"code":-32602,"message":"too many arguments, want at most 0"' "$(call eth_config '[1]')"
stop_server > /dev/null

# ----------------------------------------------- 3. eth_config, each fork
# Shanghai from genesis, then Cancun, Prague, Osaka and BPO1 by timestamp.
cat > "$TMP/forks.json" << 'JSON'
{"config": {"chainId": 31337, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
            "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0,
            "berlinBlock": 0, "londonBlock": 0, "mergeNetsplitBlock": 0, "terminalTotalDifficulty": 0,
            "shanghaiTime": 0, "cancunTime": 1000, "pragueTime": 2000, "osakaTime": 3000, "bpo1Time": 4000,
            "blobSchedule": {"cancun": {"target": 3, "max": 6, "baseFeeUpdateFraction": 3338477},
                             "prague": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716},
                             "osaka": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716},
                             "bpo1": {"target": 10, "max": 15, "baseFeeUpdateFraction": 8346193}}},
 "gasLimit": "0x1c9c380", "baseFeePerGas": "0x3b9aca00", "timestamp": "0x1", "alloc": {}}
JSON
DB=$TMP/forks.db
"$JITEVM" init --db "$DB" --chain "$TMP/forks.json" > /dev/null || exit 1
serve_db "$TMP/forks.log" --admin --admin-token "$TOKEN" --log-level warn
# config_at TIMESTAMP: eth_config with the head at TIMESTAMP.
config_at() {
    rpc "$(req jitevm_setBlock "[{\"timestamp\":\"$(printf 0x%x "$1")\"}]")" > /dev/null
    call eth_config '[]'
}
# cfg JSON EXPR: a Python expression over the result r.
cfg() { printf '%s' "$1" | python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print(json.dumps($2, sort_keys=True, separators=(',', ':')))"; }

C=$(config_at 500)
check_eq "Shanghai: current activation" "0" "$(cfg "$C" "r['current']['activationTime']")"
check_eq "Shanghai: no blob schedule" "null" "$(cfg "$C" "r['current']['blobSchedule']")"
check_eq "Shanghai: no system contracts" "{}" "$(cfg "$C" "r['current']['systemContracts']")"
check_eq "Shanghai: nine precompiles" '["BLAKE2F","BN254_ADD","BN254_MUL","BN254_PAIRING","ECREC","ID","MODEXP","RIPEMD160","SHA256"]' "$(cfg "$C" "sorted(r['current']['precompiles'])")"
check_eq "Shanghai: next is Cancun" "1000" "$(cfg "$C" "r['next']['activationTime']")"
check_eq "Shanghai: last is BPO1" '[4000,{"baseFeeUpdateFraction":8346193,"max":15,"target":10}]' "$(cfg "$C" "[r['last']['activationTime'], r['last']['blobSchedule']]")"
check_eq "chainId" '"0x7a69"' "$(cfg "$C" "r['current']['chainId']")"
# forkId (EIP-2124/6122), computed here with zlib's CRC-32 from block 0's
# hash (init computes it as geth builds the genesis header): the timestamped
# forks after the genesis timestamp (1) up to the configuration's.
GENESIS_HASH=$(call eth_getBlockByNumber '["0x0",false]' | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["hash"])')
forkid() { python3 -c "
import zlib, sys
c = zlib.crc32(bytes.fromhex('${GENESIS_HASH#0x}'))
for t in [1000, 2000, 3000, 4000]:
    if t <= $1: c = zlib.crc32(t.to_bytes(8, 'big'), c)
print('\"0x%08x\"' % c)"; }
check_eq "forkId: CRC-32 of the genesis hash (Shanghai from genesis)" "$(forkid 500)" "$(cfg "$C" "r['current']['forkId']")"
check_eq "forkId: next (Cancun) and last (BPO1)" "[$(forkid 1000),$(forkid 4000)]" "$(cfg "$C" "[r['next']['forkId'], r['last']['forkId']]")"
check_eq "field order as geth's" '["activationTime","blobSchedule","chainId","forkId","precompiles","systemContracts"]' "$(cfg "$C" "list(r['current'])")"
for f in cancun:1500:2000 prague:2500:3000 osaka:3500:4000; do
    HF=${f%%:*}
    T=${f#*:}
    NEXT=${T#*:}
    T=${T%:*}
    C=$(config_at "$T")
    start_anvil "$HF" 2
    ANV=$(curl -s -H 'Content-Type: application/json' --data-binary "$(req eth_config '[]')" "$AURL")
    for field in precompiles blobSchedule; do
        check_eq "$HF: current $field as anvil's" "$(cfg "$ANV" "r['current']['$field']")" "$(cfg "$C" "r['current']['$field']")"
    done
    # anvil gives every chain mainnet's deposit contract; geth the chain's
    # (none for a genesis file without depositContractAddress): compared
    # without it.
    SYS="{k: v for k, v in r['current']['systemContracts'].items() if k != 'DEPOSIT_CONTRACT_ADDRESS'}"
    check_eq "$HF: current system contracts as anvil's" "$(cfg "$ANV" "$SYS")" "$(cfg "$C" "$SYS")"
    check_eq "$HF: activation" "$((T - 500))" "$(cfg "$C" "r['current']['activationTime']")"
    check_eq "$HF: next" "$NEXT" "$(cfg "$C" "r['next']['activationTime']")"
    check_eq "$HF: last" "4000" "$(cfg "$C" "r['last']['activationTime']")"
done
check "prague: deposit contract (none configured)" '"DEPOSIT_CONTRACT_ADDRESS":"0x0000000000000000000000000000000000000000"' "$(config_at 2500)"
C=$(config_at 4500)
check_eq "BPO1: current" '[4000,{"baseFeeUpdateFraction":8346193,"max":15,"target":10}]' "$(cfg "$C" "[r['current']['activationTime'], r['current']['blobSchedule']]")"
check_eq "BPO1: Osaka's precompiles" "$(cfg "$(config_at 3500)" "r['current']['precompiles']")" "$(cfg "$(config_at 4500)" "r['current']['precompiles']")"
check_eq "BPO1: nothing next" "[null,null]" "$(cfg "$(config_at 4500)" "[r['next'], r['last']]")"
stop_server > /dev/null

# A genesis file's depositContractAddress (EIP-6110) and its block forks
# that change no EVM rule (daoForkBlock, muirGlacierBlock, ...), which
# EIP-2124 counts: forkId computed here from block 0's hash and every
# ...Block and ...Time activation after genesis, as geth's gatherForks.
DEPOSIT=0x00000000000000000000000000000000deadbeef
cat > "$TMP/deposit.json" << JSON
{"config": {"chainId": 31338, "homesteadBlock": 0, "daoForkBlock": 3, "eip150Block": 5, "eip155Block": 7, "eip158Block": 7,
            "byzantiumBlock": 9, "constantinopleBlock": 11, "petersburgBlock": 11, "istanbulBlock": 13,
            "muirGlacierBlock": 15, "berlinBlock": 17, "londonBlock": 19, "arrowGlacierBlock": 21, "grayGlacierBlock": 23,
            "mergeNetsplitBlock": 25, "terminalTotalDifficulty": 0, "shanghaiTime": 10, "cancunTime": 20, "pragueTime": 30,
            "depositContractAddress": "$DEPOSIT"},
 "nonce": "0x42", "extraData": "0x6a697465766d", "gasLimit": "0x1c9c380", "difficulty": "0x1", "timestamp": "0x5",
 "alloc": {"0x00000000000000000000000000000000000000aa": {"balance": "0xde0b6b3a7640000"}}}
JSON
# Its alloc gets the system contracts Prague blocks call (EIP-2935, 4788,
# 7002, 7251), taken from the dev chain's genesis (`jitevm dump`).
"$JITEVM" init --db "$TMP/sys.db" --chain dev > /dev/null || exit 1
"$JITEVM" dump --db "$TMP/sys.db" > "$TMP/sys.json" || exit 1
python3 -c "
import json, sys
g = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
g['alloc'].update({a: v for a, v in d.items() if v.get('code')})
json.dump(g, open(sys.argv[1], 'w'))" "$TMP/deposit.json" "$TMP/sys.json"
DB=$TMP/deposit.db
"$JITEVM" init --db "$DB" --chain "$TMP/deposit.json" > /dev/null || exit 1
serve_db "$TMP/deposit.log" --admin --admin-token "$TOKEN" --log-level warn
B0=$(call eth_getBlockByNumber '["0x0",false]')
check_eq "genesis file: block 0 keeps its extraData and nonce" '["0x6a697465766d","0x0000000000000042"]' "$(cfg "$B0" "[r['extraData'], r['nonce']]")"
GENESIS_HASH=$(cfg "$B0" "r['hash']" | tr -d '"')
rpc "$(req jitevm_setBlock '[{"number":"0x40","timestamp":"0x28"}]')" > /dev/null
C=$(call eth_config '[]')
WANT=$(python3 -c "
import zlib
c = zlib.crc32(bytes.fromhex('${GENESIS_HASH#0x}'))
for f in [3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 10, 20, 30]:
    c = zlib.crc32(f.to_bytes(8, 'big'), c)
print('\"0x%08x\"' % c)")
check_eq "genesis file: forkId counts every ...Block fork (DAO, Muir/Arrow/Gray Glacier, netsplit)" "$WANT" "$(cfg "$C" "r['current']['forkId']")"
check "genesis file: its depositContractAddress" "\"DEPOSIT_CONTRACT_ADDRESS\":\"$DEPOSIT\"" "$C"
# eth_simulateV1 parses the DepositEvent logs of that contract (a log of the
# wrong length refuses the block, naming geth's error): a contract logging
# 575 bytes under DepositEvent's topic at the configured address.
LOGGER=0x365f5f377f649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5365fa100
DATA=0x$(python3 -c 'print("00" * 575)')
SIM="[{\"blockStateCalls\":[{\"stateOverrides\":{\"$DEPOSIT\":{\"code\":\"$LOGGER\"}},\"calls\":[{\"from\":\"0x00000000000000000000000000000000000000aa\",\"to\":\"$DEPOSIT\",\"input\":\"$DATA\"}]}]},\"latest\"]"
check "genesis file: eth_simulateV1 reads deposits from its deposit contract" '"message":"failed to parse deposit logs: unable to parse deposit data: deposit wrong length: want 576, have 575"' "$(call eth_simulateV1 "$SIM")"
SIM0="[{\"blockStateCalls\":[{\"stateOverrides\":{\"0x00000000219ab540356cbb839cbe05303d7705fa\":{\"code\":\"$LOGGER\"}},\"calls\":[{\"from\":\"0x00000000000000000000000000000000000000aa\",\"to\":\"0x00000000219ab540356cbb839cbe05303d7705fa\",\"input\":\"$DATA\"}]}]},\"latest\"]"
check "genesis file: another address's DepositEvent logs are not deposits" '"status":"0x1"' "$(call eth_simulateV1 "$SIM0")"
stop_server > /dev/null

# geth's own answers for the execution-apis test chain (ethereum/execution-apis,
# tests/genesis.json: block forks 3..36, timestamped forks 390..540 with
# BPO1 and BPO2, extraData "hivechain"): eth_getBlockByNumber("0x0", true) is
# tests/eth_getBlockByNumber/get-genesis.io's answer, byte for byte once
# parsed, and eth_config past BPO2 is tests/eth_config/get-config.io's.
# Optional, outside CI (nothing of execution-apis is kept in this tree): run
# when EXECUTION_APIS names a checkout (or git directory) of it.
EXECUTION_APIS=${EXECUTION_APIS:-}
ea_file() {
    if [ -f "$EXECUTION_APIS/$1" ]; then cat "$EXECUTION_APIS/$1"
    else git -C "$EXECUTION_APIS" show "HEAD:$1" 2> /dev/null; fi
}
if [ -z "$EXECUTION_APIS" ]; then
    echo "$NAME: the execution-apis chain checks are optional and were not run (EXECUTION_APIS=DIR runs them; not counted)"
elif ea_file tests/genesis.json > "$TMP/ea-genesis.json" 2> /dev/null && [ -s "$TMP/ea-genesis.json" ]; then
    DB=$TMP/ea.db
    "$JITEVM" init --db "$DB" --chain "$TMP/ea-genesis.json" > /dev/null || exit 1
    serve_db "$TMP/ea.log" --admin --admin-token "$TOKEN" --log-level warn
    same_result() { python3 -c "
import json, sys
got = json.loads(sys.argv[1]); want = json.loads(sys.argv[2])
print('same' if got.get('result') == want.get('result') else json.dumps(got)[:600])" "$1" "$2"; }
    WANT=$(ea_file tests/eth_getBlockByNumber/get-genesis.io | sed -n 's/^<< //p')
    check_eq "execution-apis chain: block 0 is geth's (hash 0x44fd89d5...)" same "$(same_result "$(call eth_getBlockByNumber '["0x0",true]')" "$WANT")"
    rpc "$(req jitevm_setBlock '[{"number":"0x40","timestamp":"0x258"}]')" > /dev/null
    WANT=$(ea_file tests/eth_config/get-config.io | sed -n 's/^<< //p')
    check_eq "execution-apis chain: eth_config past BPO2 is geth's (forkId 0xe272ecbe)" same "$(same_result "$(call eth_config '[]')" "$WANT")"
    stop_server > /dev/null
else
    fail "EXECUTION_APIS=$EXECUTION_APIS holds no tests/genesis.json of ethereum/execution-apis"
fi

# The dev chain (`init --chain dev`): every fork from genesis, so Osaka is
# current and nothing is next; compared with anvil at Osaka.
DB=$TMP/dev.db
"$JITEVM" init --db "$DB" --chain dev > /dev/null || exit 1
serve_db "$TMP/dev.log" --log-level warn
C=$(call eth_config '[]')
start_anvil osaka 4
ANV=$(curl -s -H 'Content-Type: application/json' --data-binary "$(req eth_config '[]')" "$AURL")
check_eq "dev: Osaka from genesis, chain 1337, nothing next" '[0,"0x539",null,null]' "$(cfg "$C" "[r['current']['activationTime'], r['current']['chainId'], r['next'], r['last']]")"
check_eq "dev: Osaka's precompiles (P256VERIFY) as anvil's" "$(cfg "$ANV" "r['current']['precompiles']")" "$(cfg "$C" "r['current']['precompiles']")"
check_eq "dev: blob schedule as anvil's" "$(cfg "$ANV" "r['current']['blobSchedule']")" "$(cfg "$C" "r['current']['blobSchedule']")"
check_eq "dev: P256VERIFY at 0x100" '"0x0000000000000000000000000000000000000100"' "$(cfg "$C" "r['current']['precompiles']['P256VERIFY']")"
stop_server > /dev/null

# The public networks: forkId from the known genesis hash (EIP-2124/6122),
# checked against go-ethereum's core/forkid/forkid_test.go values.
for net in "mainnet 0x1 0x00000000219ab540356cbb839cbe05303d7705fa 1681338455:dce96c2d 1710338135:9f3d2254 1746612311:c376cf8b 1764798551:5167e2a6 1765290071:cba2a1c0 1767747671:07c9462e" \
           "sepolia 0xaa36a7 0x7f02c3e3c98b133055b8b348b2ac625669ed295d 1677557088:f7f9bc08 1706655072:88cf81d9 1741159776:ed88b5fd 1760427360:e2ae4999 1761017184:56078a1e 1761607008:268956b6" \
           "holesky 0x4268 0x4242424242424242424242424242424242424242 1696000704:fd4f016b 1707305664:9b192ad0 1740434112:dfbd9bed 1759308480:783def52 1759800000:a280a45c 1760389824:9bc6cb31" \
           "hoodi 0x88bb0 0x00000000219ab540356cbb839cbe05303d7705fa 1742999832:0929e24e 1761677592:e7e0e7ff 1762365720:3893353e 1762955544:23aa1351"; do
    set -- $net
    CHAIN=$1
    ID=$2
    DEPOSIT=$3
    shift 3
    DB=$TMP/$CHAIN.db
    "$JITEVM" init --db "$DB" --chain "$CHAIN" > /dev/null || exit 1
    serve_db "$TMP/$CHAIN.log" --admin --admin-token "$TOKEN" --log-level warn
    C=$(call eth_config '[]')
    # At genesis: before Shanghai (current null), or Hoodi's Cancun from genesis.
    check_eq "$CHAIN: current at genesis" "true" "$(cfg "$C" "r['current'] is None or r['current']['activationTime'] == 0")"
    check_eq "$CHAIN: next is the first fork listed" "[${1%%:*},\"0x${1#*:}\",\"$ID\"]" "$(cfg "$C" "[r['next']['activationTime'], r['next']['forkId'], r['next']['chainId']]")"
    for point in "$@"; do
        C=$(config_at "${point%%:*}")
        check_eq "$CHAIN at ${point%%:*}: forkId" "\"0x${point#*:}\"" "$(cfg "$C" "r['current']['forkId']")"
    done
    check "$CHAIN: deposit contract" "\"DEPOSIT_CONTRACT_ADDRESS\":\"$DEPOSIT\"" "$C"
    stop_server > /dev/null
done

# ------------------------------------------------ 4. a live database
start_anvil prague 3
# A block mined first: anvil's genesis header carries the empty trie's
# stateRoot, not its state's, so no proof at it verifies (jitevm refuses those).
curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary "$(req evm_mine '[]')" "$AURL"
DB=$TMP/live.db
if "$JITEVM" init --db "$DB" --fork-url "$AURL" --chain "$TMP/genesis.json" > "$TMP/live-init.log" 2>&1; then
    serve_db "$TMP/live.log" --log-level warn
    P=$(call eth_getProof "[\"$A\",[]]")
    W=$(curl -s -H 'Content-Type: application/json' --data-binary "$(req eth_getProof "[\"$A\",[],\"0x1\"]")" "$AURL")
    check "live: eth_getProof answered" '"accountProof":["0x' "$P"
    check_eq "live: eth_getProof is the upstream's at the pinned block" "${W#*\"result\":}" "${P#*\"result\":}"
    check "live: eth_getStorageValues served" "{\"$A\":[\"0x0000000000000000000000000000000000000000000000000000000000000000\"]}" "$(call eth_getStorageValues "[{\"$A\":[\"$K\"]}]")"
    check "live: eth_config served" '"chainId":"0x7a69"' "$(call eth_config '[]')"
    stop_server > /dev/null
else
    fail "init --fork-url anvil" "a live database" "$(cat "$TMP/live-init.log")"
fi

echo "$NAME: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
