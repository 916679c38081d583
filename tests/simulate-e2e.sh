#!/bin/sh
# eth_simulateV1 end to end: a real `jitevm serve` and a real anvil (npm)
# loaded with the same contracts and balances, answering the same
# generated scenarios (transfers, contract calls, reverts, multi-block
# chains with gaps, state and block overrides, traceTransfers, validation on
# and off); the answers must be identical except where anvil itself departs
# from geth (ANVIL_DEPARTS below, and the README's "#### eth_simulateV1").
# Then what anvil does not do, checked against geth's behaviour on jitevm
# alone: gap filling, parent hashes, the base fee evolving under
# validation, BLOCKHASH of simulated blocks, withdrawals, the gas pool, the
# timeout, and bad input (every parameter malformed once) with the spec's
# error codes.
# Ends with "N passed, N failed"; exit status 1 when any failed.
#
# Usage: sh tests/simulate-e2e.sh [path/to/jitevm]
# Environment: SIMULATE_E2E_DUMP=FILE: every answer of jitevm's to
# eth_simulateV1 of the comparison is also appended to FILE as received,
# one a line (two builds' files must be byte for byte the same when a
# change should not alter any answer).
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
command -v curl > /dev/null || { echo "simulate-e2e: curl is needed"; exit 1; }
command -v python3 > /dev/null || { echo "simulate-e2e: python3 is needed"; exit 1; }
[ -x "$JITEVM" ] || { echo "simulate-e2e: no binary at $JITEVM"; exit 1; }

NAME=simulate-e2e
. "$(dirname "$0")/e2e-lib.sh"
e2e_tmp simulate
install_anvil

prague_genesis "$TMP/genesis.json"
"$JITEVM" init --db "$TMP/db" --chain "$TMP/genesis.json" > "$TMP/init.log" 2>&1 || { cat "$TMP/init.log"; exit 1; }
TOKEN=simulate-token-0123456789abcdef0123456789
start_with_anvil "$TMP/db" "$TOKEN" 11

# The comparison and the checks, in Python (json in, verdicts out).
cat > "$TMP/simulate.py" << 'PY'
import json, random, sys, urllib.request

JURL, AURL, TOKEN, DUMP = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
passed = failed = 0

def rpc(url, method, params, auth=False):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    if auth:
        req.add_header("Authorization", "Bearer " + TOKEN)
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read()
    if DUMP and url == JURL and method == "eth_simulateV1":
        with open(DUMP, "ab") as f:
            f.write(text + b"\n")
    return json.loads(text)

def ok(cond, name, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + name)
        if detail:
            print("  " + detail[:3000])

def addr(n): return "0x%040x" % n
def word(n): return "%064x" % n

# --- contracts, the same on both servers
ECHO = addr(0xc100)       # returns its calldata
STORE = addr(0xc101)      # sstore(0, arg); log1(arg, topic 0xaa)
READ = addr(0xc102)       # returns sload(0)
REVERTER = addr(0xc103)   # revert Error("boom")
PANICKER = addr(0xc104)   # revert Panic(1)
FORWARD = addr(0xc105)    # call(arg, callvalue)
FORWARD_REVERT = addr(0xc106)  # call(arg, callvalue); revert()
BLOCKINFO = addr(0xc107)  # number, timestamp, basefee, coinbase, gaslimit
PREVRANDAO = addr(0xc10d) # prevrandao
COUNTER = addr(0xc108)    # slot0 += 1; returns it
BALANCE = addr(0xc109)    # balance(arg)
INVALID = addr(0xc10a)    # 0xfe
LOOP = addr(0xc10b)       # 1000 iterations
BLOCKHASH = addr(0xc10c)  # blockhash(arg)
CODE = {
    ECHO: "0x366000600037366000f3",
    STORE: "0x6000358060005560005260aa60206000a100",
    READ: "0x60005460005260206000f3",
    REVERTER: "0x6064600c60003960646000fd08c379a000000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000004626f6f6d00000000000000000000000000000000000000000000000000000000",
    PANICKER: "0x6024600c60003960246000fd4e487b710000000000000000000000000000000000000000000000000000000000000001",
    FORWARD: "0x600060006000600034600035" + "5af15000",
    FORWARD_REVERT: "0x600060006000600034600035" + "5af15060006000fd",
    BLOCKINFO: "0x4360005242602052486040524160605245608052" + "60a06000f3",
    PREVRANDAO: "0x4460005260206000f3",
    COUNTER: "0x6000546001018060005560005260206000f3",
    BALANCE: "0x6000353160005260206000f3",
    INVALID: "0xfe",
    LOOP: "0x6103e860005b5850601f02810180600052600051019060019003908160055760005260206000f3",
    BLOCKHASH: "0x6000354060005260206000f3",
}
SENDERS = [addr(0xa000 + i) for i in range(4)]
FUNDS = "0x3635c9adc5dea00000"  # 1000 ether
for url in (JURL, AURL):
    for a, code in CODE.items():
        rpc(url, "anvil_setCode", [a, code], auth=True)
    for s in SENDERS:
        rpc(url, "anvil_setBalance", [s, FUNDS], auth=True)
    rpc(url, "anvil_setStorageAt", [COUNTER, "0x0", "0x" + word(5)], auth=True)

# The system contracts every Prague chain holds (geth refuses a block whose
# EIP-7002 or EIP-7251 contract has no code): their deployed code as the
# EIPs give it, nonce 1, on both servers.
SYSTEM_CODE = {
    "0x000f3df6d732807ef1319fb7b8bb8522d0beac02": ("3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff8106"
        "90815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500"),  # EIP-4788
    "0x0000f90827f1c53a10cb7a02335b175320002935": ("3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff814303"
        "11604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500"),  # EIP-2935
    "0x00000961ef480eb55e80d19ad83579a64c007002": ("3373fffffffffffffffffffffffffffffffffffffffe1460cb5760115f54807fffffffffffffffffffffffffffffffffffff"
        "ffffffffffffffffffffffffffff146101f457600182026001905f5b5f821115606857810190830284830290049160010191"
        "90604d565b909390049250505036603814608857366101f457346101f4575f5260205ff35b34106101f45760015460010160"
        "0155600354806003026004013381556001015f35815560010160203590553360601b5f5260385f601437604c5fa060010160"
        "0355005b6003546002548082038060101160df575060105b5f5b8181146101835782810160030260040181604c0281546060"
        "1b8152601401816001015481526020019060020154807fffffffffffffffffffffffffffffffff0000000000000000000000"
        "0000000000168252906010019060401c908160381c81600701538160301c81600601538160281c81600501538160201c8160"
        "0401538160181c81600301538160101c81600201538160081c81600101535360010160e1565b910180921461019557906002"
        "556101a0565b90505f6002555f6003555b5f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        "ffffff14156101cd57505f5b6001546002828201116101e25750505f6101e8565b01600290035b5f555f600155604c025ff3"
        "5b5f5ffd"),  # EIP-7002
    "0x0000bbddc7ce488642fb579f8b00f3a590007251": ("3373fffffffffffffffffffffffffffffffffffffffe1460d35760115f54807fffffffffffffffffffffffffffffffffffff"
        "ffffffffffffffffffffffffffff1461019a57600182026001905f5b5f821115606857810190830284830290049160010191"
        "90604d565b9093900492505050366060146088573661019a573461019a575f5260205ff35b341061019a5760015460010160"
        "0155600354806004026004013381556001015f358155600101602035815560010160403590553360601b5f5260605f601437"
        "60745fa0600101600355005b6003546002548082038060021160e7575060025b5f5b81811461012957828101600402600401"
        "81607402815460601b815260140181600101548152602001816002015481526020019060030154905260010160e9565b9101"
        "80921461013b5790600255610146565b90505f6002555f6003555b5f54807fffffffffffffffffffffffffffffffffffffff"
        "ffffffffffffffffffffffffff141561017357505f5b6001546001828201116101885750505f61018e565b01600190035b5f"
        "555f6001556074025ff35b5f5ffd"),  # EIP-7251
}
for url in (JURL, AURL):
    for a, code in SYSTEM_CODE.items():
        rpc(url, "anvil_setCode", [a, "0x" + code], auth=True)
        rpc(url, "anvil_setNonce", [a, "0x1"], auth=True)

# --- where anvil departs from geth (each also in the README):
#  * a block's number and timestamp when not overridden: anvil gives the
#    first simulated block the head's number and timestamp (geth: head + 1,
#    head's timestamp + 12), and fills no gaps (geth returns the empty
#    blocks in between): scenarios give both; the gap blocks are compared
#    by number;
#  * baseFeePerGas when not overridden: geth uses 0 without validation and
#    the EIP-1559 successor of the parent with it; anvil keeps the head's or
#    derives it without validation: compared only when overridden;
#  * hash, parentHash, stateRoot, transactionsRoot, receiptsRoot, size,
#    transactions (hashes), the logs' blockHash and transactionHash: anvil
#    hashes its own way (a zero parentHash, transactionsRoot equal to
#    receiptsRoot, transaction hashes that differ between the block and its
#    logs); mixHash: anvil ignores the prevRandao override in the header,
#    and PREVRANDAO reads the head's value in a block without the override
#    (geth: the override, else zero): checked on jitevm alone below;
#  * withdrawals, withdrawalsRoot, blobGasUsed, excessBlobGas,
#    parentBeaconBlockRoot, requestsHash: anvil omits them in a Prague
#    block (geth includes them from Shanghai, Cancun and Prague on);
#  * calls[].error: anvil answers {code -3200, "execution failed"} for a
#    revert and a VM error alike; geth: {code 3, "execution reverted: ...",
#    data} and {code -32015, the VM error};
#  * calls[].returnData of a failed call: geth's is empty (the revert data
#    is in the error), anvil's holds the revert data;
#  * logsBloom with traceTransfers: geth's bloom holds the receipt's logs
#    only, not the ERC-7528 transfer logs; anvil adds those;
#  * the logs of a failed call: geth drops every log of a frame that fails,
#    its ERC-7528 transfer log included; anvil keeps the transfer log of a
#    reverted call: logs are compared for successful calls;
#  * contract creation (a call without "to"): anvil refuses it ("missing
#    keys: to"); checked on jitevm alone below;
#  * a call without "gas" gets what the block has left in geth, the whole
#    block gas limit in anvil: calls that burn all their gas give "gas";
#  * validation: anvil checks neither nonces nor fees; the scenarios with
#    validation on are valid in both.
BLOCK_FIELDS = ["number", "timestamp", "gasLimit", "gasUsed", "miner"]
LOG_FIELDS = ["address", "topics", "data", "blockNumber", "blockTimestamp", "transactionIndex", "logIndex", "removed"]

def normalize(result, requested, trace):
    out = []
    for b in result:
        ov = requested.get(int(b["number"], 16))
        if ov is None:
            continue  # a gap block (anvil fills none)
        nb = {k: b.get(k) for k in BLOCK_FIELDS}
        if "baseFeePerGas" in ov:
            nb["baseFeePerGas"] = b.get("baseFeePerGas")
        if not trace:
            nb["logsBloom"] = b.get("logsBloom")
        nb["calls"] = [{"returnData": c.get("returnData") if c.get("status") == "0x1" else None,
                        "gasUsed": c.get("gasUsed"), "status": c.get("status"),
                        "logs": [{k: l.get(k) for k in LOG_FIELDS} for l in c.get("logs", [])] if c.get("status") == "0x1" else None}
                       for c in b.get("calls", [])]
        out.append(nb)
    return out

rng = random.Random(7528)
EOAS = [addr(0xe000 + i) for i in range(6)]

def rand_call(sender, validation, fee):
    kind = rng.choice(["transfer", "echo", "store", "read", "counter", "revert", "panic", "forward",
                       "forward_revert", "blockinfo", "balance", "invalid", "loop"])
    c = {"from": sender}
    if validation:
        c["maxFeePerGas"] = hex(fee * 2)
        c["maxPriorityFeePerGas"] = "0x0"
        # the gas bought up front shows in BALANCE of the sender: give it
        # (anvil's default differs from geth's, see above)
        c["gas"] = hex(1000000)
    if kind == "transfer":
        c.update(to=rng.choice(EOAS), value=hex(rng.randint(1, 10**18)))
    elif kind == "echo":
        c.update(to=ECHO, input="0x" + "".join(rng.choice("0123456789abcdef") for _ in range(2 * rng.randint(0, 40))))
    elif kind == "store":
        c.update(to=STORE, input="0x" + word(rng.randint(0, 2**64)))
    elif kind == "read":
        c.update(to=READ)
    elif kind == "counter":
        c.update(to=COUNTER)
    elif kind == "revert":
        c.update(to=rng.choice([REVERTER, PANICKER]))
    elif kind == "panic":
        c.update(to=PANICKER, gas="0x30000")
    elif kind in ("forward", "forward_revert"):
        c.update(to=FORWARD if kind == "forward" else FORWARD_REVERT, value=hex(rng.randint(1, 10**15)),
                 input="0x" + "0" * 24 + rng.choice(EOAS)[2:])
    elif kind == "blockinfo":
        c.update(to=BLOCKINFO)
    elif kind == "balance":
        c.update(to=BALANCE, input="0x" + "0" * 24 + rng.choice(EOAS + SENDERS)[2:])
    elif kind == "invalid":
        c.update(to=INVALID, gas="0x186a0")
    elif kind == "loop":
        c.update(to=LOOP)
    return c

def scenario(i):
    validation = i % 3 == 2
    trace = i % 2 == 1
    n_blocks = rng.randint(1, 3)
    number, time = 0, 1000
    blocks, requested = [], {}
    for _ in range(n_blocks):
        gap = rng.choice([1, 1, 2, 3])          # gaps are filled 12 s apart
        number += gap
        time += 12 * (gap - 1) + rng.choice([1, 12, 100])
        ov = {"number": hex(number), "time": hex(time)}
        fee = 10**9
        if validation or rng.random() < 0.3:
            fee = rng.choice([7, 10**9, 3 * 10**9])
            ov["baseFeePerGas"] = hex(fee)
        if rng.random() < 0.3:
            ov["feeRecipient"] = rng.choice(EOAS)
        if rng.random() < 0.3:
            ov["gasLimit"] = hex(rng.choice([10**7, 3 * 10**7, 6 * 10**7]))
        if rng.random() < 0.2:
            ov["prevRandao"] = "0x" + word(rng.randint(1, 2**200))
        block = {"blockOverrides": ov, "calls": []}
        if rng.random() < 0.35:
            so = {}
            pick = rng.choice(["balance", "nonce", "code", "state", "stateDiff"])
            if pick == "balance":
                so[rng.choice(SENDERS)] = {"balance": hex(rng.randint(10**18, 10**21))}
            elif pick == "nonce":
                so[rng.choice(SENDERS)] = {"nonce": hex(rng.randint(0, 20))}
            elif pick == "code":
                so[addr(0xd00d)] = {"code": CODE[COUNTER]}
            elif pick == "state":
                so[COUNTER] = {"state": {"0x" + word(0): "0x" + word(rng.randint(0, 1000))}}
            else:
                so[COUNTER] = {"stateDiff": {"0x" + word(0): "0x" + word(rng.randint(0, 1000)), "0x" + word(1): "0x" + word(9)}}
            block["stateOverrides"] = so
        for _ in range(rng.randint(0, 4)):
            block["calls"].append(rand_call(rng.choice(SENDERS), validation, fee))
        if rng.random() < 0.2 and not validation:
            block["calls"].append({"from": rng.choice(SENDERS), "to": addr(0xd00d)})
        blocks.append(block)
        requested[number] = ov
    payload = {"blockStateCalls": blocks, "traceTransfers": trace, "validation": validation}
    return payload, requested, trace

N_SCENARIOS = 60
for i in range(N_SCENARIOS):
    payload, requested, trace = scenario(i)
    j = rpc(JURL, "eth_simulateV1", [payload, "latest"])
    a = rpc(AURL, "eth_simulateV1", [payload, "latest"])
    name = "scenario %d (%d blocks, traceTransfers %s, validation %s)" % (
        i, len(payload["blockStateCalls"]), payload["traceTransfers"], payload["validation"])
    if "error" in j or "error" in a:
        ok("error" in j and "error" in a, name + ": both answer an error", "jitevm: %s\n  anvil: %s" % (j.get("error"), a.get("error")))
        continue
    nj, na = normalize(j["result"], requested, trace), normalize(a["result"], requested, trace)
    detail = ""
    if nj != na:
        diffs = []
        def walk(x, y, path):
            if type(x) != type(y) or (not isinstance(x, (dict, list)) and x != y):
                diffs.append("%s: jitevm %s, anvil %s" % (path, json.dumps(x)[:200], json.dumps(y)[:200]))
            elif isinstance(x, dict):
                for k in sorted(set(x) | set(y)):
                    walk(x.get(k), y.get(k), path + "." + k)
            elif isinstance(x, list):
                if len(x) != len(y):
                    diffs.append("%s: %d items vs %d" % (path, len(x), len(y)))
                for k, (u, v) in enumerate(zip(x, y)):
                    walk(u, v, "%s[%d]" % (path, k))
        walk(nj, na, "")
        detail = "payload: %s\n  %s" % (json.dumps(payload), "\n  ".join(diffs[:8]))
    ok(nj == na, name + ": same answer as anvil", detail)
    # geth's error object on jitevm's side (anvil's departs): a revert is
    # code 3 with the data, a VM error -32015.
    for b in j["result"]:
        for c in b["calls"]:
            if c["status"] == "0x0":
                ok(c["returnData"] == "0x", name + ": a failed call returns nothing", json.dumps(c))
                e = c.get("error", {})
                good = (e.get("code") == 3 and "data" in e and e["message"].startswith("execution reverted")) or e.get("code") == -32015
                ok(good, name + ": failed call has geth's error object", json.dumps(c))

# --- geth's behaviour where anvil departs: jitevm alone
def sim(payload, tag="latest", url=None):
    return rpc(url or JURL, "eth_simulateV1", [payload, tag])

def code_of(r): return r.get("error", {}).get("code")

# gap filling, timestamps, parent hashes
r = sim({"blockStateCalls": [{}, {"blockOverrides": {"number": "0x4"}}, {"blockOverrides": {"time": "0x1000"}}]})
nums = [int(b["number"], 16) for b in r["result"]]
ok(nums == [1, 2, 3, 4, 5], "gaps are filled with empty blocks", str(nums))
times = [int(b["timestamp"], 16) for b in r["result"]]
ok(times[:4] == [13, 25, 37, 49] and times[4] == 0x1000, "timestamps default to +12", str(times))
ok(all(r["result"][k]["parentHash"] == r["result"][k - 1]["hash"] for k in range(1, 5)), "parent hashes chain")
head = rpc(JURL, "eth_getBlockByNumber", ["latest", False])["result"]
ok(r["result"][0]["parentHash"] == head["hash"], "the first parent is the head", "%s %s" % (r["result"][0]["parentHash"], head["hash"]))
ok(all(b["baseFeePerGas"] == "0x0" for b in r["result"]), "base fee is 0 without validation")
ok(all(b["withdrawals"] == [] and b["requestsHash"] and b["parentBeaconBlockRoot"] for b in r["result"]), "Prague header fields present")

# the base fee evolves under validation (EIP-1559 from the parent's gas used)
s0 = SENDERS[0]
r = sim({"validation": True, "blockStateCalls": [
    {"blockOverrides": {"gasLimit": hex(100000)}, "calls": [{"from": s0, "to": LOOP, "maxFeePerGas": hex(4 * 10**9), "maxPriorityFeePerGas": "0x0"}]},
    {"calls": []}, {"calls": []}]})
b = r["result"]
def next_fee(fee, used, limit):
    target = limit // 2
    if used == target: return fee
    if used > target: return fee + max(1, fee * (used - target) // target // 8)
    return fee - fee * (target - used) // target // 8
f1, f2, f3 = (int(x["baseFeePerGas"], 16) for x in b)
ok(f1 == next_fee(10**9, 0, 30000000), "validation: first base fee from the head", str(f1))
ok(f2 == next_fee(f1, int(b[0]["gasUsed"], 16), 100000), "validation: base fee follows gas used", "%d %s" % (f2, b[0]["gasUsed"]))
ok(f3 == next_fee(f2, 0, 100000), "validation: base fee of an empty parent", str(f3))

# BLOCKHASH sees the simulated blocks
r = sim({"blockStateCalls": [{}, {"calls": [{"to": BLOCKHASH, "input": "0x" + word(1)}]}]})
ok(r["result"][1]["calls"][0]["returnData"] == r["result"][0]["hash"], "BLOCKHASH of a simulated block is its hash")

# withdrawals credit balances after the block's calls
w = addr(0xbeef01)
r = sim({"blockStateCalls": [
    {"blockOverrides": {"withdrawals": [{"index": "0x0", "validatorIndex": "0x1", "address": w, "amount": "0x5"}]},
     "calls": [{"to": BALANCE, "input": "0x" + "0" * 24 + w[2:]}]},
    {"calls": [{"to": BALANCE, "input": "0x" + "0" * 24 + w[2:]}]}]})
ok(int(r["result"][0]["calls"][0]["returnData"], 16) == 0 and int(r["result"][1]["calls"][0]["returnData"], 16) == 5 * 10**9,
   "withdrawals are paid after the block's calls", json.dumps([b["calls"] for b in r["result"]]))
ok(r["result"][0]["withdrawals"][0]["amount"] == "0x5" and r["result"][0]["withdrawalsRoot"] != r["result"][1]["withdrawalsRoot"],
   "withdrawals in the block")

# traceTransfers: a reverted frame's transfer log goes away; log indices count them
r = sim({"traceTransfers": True, "blockStateCalls": [{"calls": [
    {"from": s0, "to": FORWARD_REVERT, "value": "0x10", "input": "0x" + "0" * 24 + EOAS[0][2:]},
    {"from": s0, "to": FORWARD, "value": "0x10", "input": "0x" + "0" * 24 + EOAS[0][2:]},
    {"from": s0, "to": STORE, "input": "0x" + word(3)}]}]})
c = r["result"][0]["calls"]
# geth's log tracer counts every log it captured in the block, those of
# failed frames too: the first call's two transfer logs took 0 and 1.
ok(c[0]["logs"] == [] and [l["logIndex"] for l in c[1]["logs"]] == ["0x2", "0x3"] and c[2]["logs"][0]["logIndex"] == "0x4",
   "traceTransfers: logs of failed frames dropped, indices count them (geth)", json.dumps(c))
ok(r["result"][0]["logsBloom"] != "0x" + "00" * 256, "the bloom holds the real log")
r2 = sim({"blockStateCalls": [{"calls": [{"from": s0, "to": STORE, "input": "0x" + word(3)}]}]})
ok(r2["result"][0]["logsBloom"] == r["result"][0]["logsBloom"], "transfer logs are not in the bloom")

# logIndex without traceTransfers: the log of a frame that reverted is
# counted as geth's tracer counts it; the next block starts again at 0
r = sim({"blockStateCalls": [{"calls": [{"from": s0, "to": FORWARD_REVERT, "input": "0x" + "0" * 24 + STORE[2:]},
                                        {"from": s0, "to": STORE, "input": "0x" + word(3)},
                                        {"from": s0, "to": STORE, "input": "0x" + word(4)}]},
                             {"calls": [{"from": s0, "to": STORE, "input": "0x" + word(5)}]}]})
c = r["result"][0]["calls"]
ok(c[0]["logs"] == [] and c[1]["logs"][0]["logIndex"] == "0x1" and c[2]["logs"][0]["logIndex"] == "0x2"
   and r["result"][1]["calls"][0]["logs"][0]["logIndex"] == "0x0", "logIndex counts a reverted frame's log, per block (geth)", json.dumps(c))

# VM errors in geth's words (its core/vm errors), code -32015
def vm_error(code_hex, gas=None, value=None):
    call = {"from": s0, "to": addr(0xe770)}
    if gas: call["gas"] = gas
    if value: call["value"] = value
    r = sim({"blockStateCalls": [{"stateOverrides": {addr(0xe770): {"code": code_hex}},
                                  "calls": [{"from": s0, "to": COUNTER}, call]}]})
    return r["result"][0]["calls"][1].get("error") if "result" in r else r
for name, code_hex, gas, value, want in [
        ("INVALID", "0x6001fe", None, "0x5", "invalid opcode: INVALID"),
        ("undefined opcode", "0x0c", None, None, "invalid opcode: opcode 0xc not defined"),
        ("stack underflow", "0x600101", None, None, "stack underflow (1 <=> 2)"),
        ("stack overflow", "0x5b600060005600", None, None, "stack limit reached 1024 (1023)"),
        ("out of gas", CODE[LOOP], "0x7530", None, "out of gas"),
        ("bad jump", "0x600456", None, None, "invalid jump destination")]:
    e = vm_error(code_hex, gas, value)
    ok(e == {"code": -32015, "message": want}, "VM error as geth words it: " + name, json.dumps(e))

# EIP-7002/7251 (Prague): the request contracts are called after the
# block's calls; their output makes requestsHash (EIP-7685). This stand-in
# for the withdrawal request contract counts its system calls and returns
# the count (a request of type 0x01); the consolidation contract's queue is
# empty (no request).
import hashlib
WQ = "0x00000961ef480eb55e80d19ad83579a64c007002"
CQ = "0x0000bbddc7ce488642fb579f8b00f3a590007251"
WQ_CODE = ("0x3373" + "ff" * 19 + "fe" + "14602557" + "600054600052" + "60206000f3" + "5b" + "600054600101"
           + "80600055" + "600052" + "60206000f3")
r = sim({"blockStateCalls": [{"stateOverrides": {WQ: {"code": WQ_CODE}}, "calls": [{"from": s0, "to": WQ}]},
                             {"calls": [{"from": s0, "to": WQ}]}]})
b = r["result"]
def requests_hash(reqs):
    return "0x" + hashlib.sha256(b"".join(hashlib.sha256(q).digest() for q in reqs if len(q) > 1)).hexdigest()
ok([x["calls"][0]["returnData"] for x in b] == ["0x" + word(0), "0x" + word(1)]
   and b[0]["requestsHash"] == requests_hash([b"\x01" + bytes.fromhex(word(1))])
   and b[1]["requestsHash"] == requests_hash([b"\x01" + bytes.fromhex(word(2))]),
   "EIP-7002 system call after the calls, requestsHash of its output", json.dumps([(x["requestsHash"], x["calls"]) for x in b]))
r = sim({"blockStateCalls": [{}]})
ok(r["result"][0]["requestsHash"] == requests_hash([]), "empty request queues: the hash of no requests")
r = sim({"blockStateCalls": [{"stateOverrides": {WQ: {"code": "0xfe"}}}]})
ok(r.get("error", {}).get("code") == -32000 and "failed to process withdrawal queue" in r["error"]["message"],
   "a failing request contract fails the request (geth)", json.dumps(r)[:300])
# A request contract without code: geth's processRequestsSystemCall refuses
# the block (the address as Go prints a common.Address, checksummed).
for contract, queue, shown in [(WQ, "withdrawal", "0x00000961Ef480Eb55e80D19ad83579A64c007002"),
                               (CQ, "consolidation", "0x0000BBdDc7CE488642fb579F8B00f3a590007251")]:
    r = sim({"blockStateCalls": [{"stateOverrides": {contract: {"code": "0x"}}}]})
    ok(r.get("error") == {"code": -32000, "message": "failed to process %s queue: empty system contract: no code at %s" % (queue, shown)},
       "a request contract without code refuses the block: " + queue, json.dumps(r)[:300])

# EIP-6110 deposits: the DepositEvent logs of the chain's deposit contract
# (this chain, chain id 31337, names none: the zero address, as geth's
# config has it) become one request of type 0x00 (each event's pubkey,
# credentials, amount, signature and index), before the queues'. The
# contract given by a state override logs its calldata under DepositEvent's
# topic; the expected hash is computed here with hashlib.
def deposit_event(pubkey, creds, amount, sig, index):
    fields = [pubkey, creds, amount.to_bytes(8, "little"), sig, index.to_bytes(8, "little")]
    head, body, at = b"", b"", 32 * len(fields)
    for f in fields:
        padded = f + bytes(-len(f) % 32)
        head += at.to_bytes(32, "big")
        body += len(f).to_bytes(32, "big") + padded
        at += 32 + len(padded)
    return head + body
DEPOSIT_TOPIC = "649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5"  # keccak256("DepositEvent(bytes,bytes,bytes,bytes,bytes)")
DEPOSIT_LOGGER = "0x365f5f377f" + DEPOSIT_TOPIC + "365fa100"  # log1(calldata, DepositEvent)
DEPOSIT_AT = addr(0)
MAINNET_DEPOSIT = "0x00000000219ab540356cbb839cbe05303d7705fa"
ev1 = deposit_event(bytes(range(1, 49)), b"\x11" * 32, 32 * 10**9, bytes(range(100, 196)), 0)
ev2 = deposit_event(bytes(range(2, 50)), b"\x22" * 32, 10**9, bytes(range(1, 97)), 1)
assert len(ev1) == 576
def request_of(ev):
    return ev[192:240] + ev[288:320] + ev[352:360] + ev[416:512] + ev[544:552]
r = sim({"blockStateCalls": [{"stateOverrides": {DEPOSIT_AT: {"code": DEPOSIT_LOGGER}, MAINNET_DEPOSIT: {"code": DEPOSIT_LOGGER}},
                              "calls": [{"from": s0, "to": DEPOSIT_AT, "input": "0x" + ev1.hex()},
                                        {"from": s0, "to": MAINNET_DEPOSIT, "input": "0x" + ev1.hex()},
                                        {"from": s0, "to": FORWARD_REVERT, "input": "0x" + word(0)},
                                        {"from": s0, "to": DEPOSIT_AT, "input": "0x" + ev2.hex()}]},
                             {"stateOverrides": {WQ: {"code": WQ_CODE}},
                              "calls": [{"from": s0, "to": DEPOSIT_AT, "input": "0x" + ev2.hex()}]}]})
b = r.get("result") or [{}, {}]
ok(b[0].get("requestsHash") == requests_hash([b"\x00" + request_of(ev1) + request_of(ev2)])
   and b[1].get("requestsHash") == requests_hash([b"\x00" + request_of(ev2), b"\x01" + bytes.fromhex(word(1))])
   and [c["status"] for c in b[0]["calls"]] == ["0x1", "0x1", "0x0", "0x1"],
   "EIP-6110 deposits from the chain's deposit contract's logs, in requestsHash before the queues'",
   json.dumps(r)[:1500])
r = sim({"blockStateCalls": [{"stateOverrides": {DEPOSIT_AT: {"code": DEPOSIT_LOGGER}},
                              "calls": [{"from": s0, "to": DEPOSIT_AT, "input": "0x" + ev1[:575].hex()}]}]})
ok(r.get("error") == {"code": -32000, "message": "failed to parse deposit logs: unable to parse deposit data: deposit wrong length: want 576, have 575"},
   "a DepositEvent of the wrong length refuses the block (geth's words)", json.dumps(r)[:300])

# returnFullTransactions
r = sim({"returnFullTransactions": True, "blockStateCalls": [{"calls": [{"from": s0, "to": ECHO, "input": "0x01"}]}]})
t = r["result"][0]["transactions"][0]
ok(isinstance(t, dict) and t["from"] == s0 and t["to"] == ECHO and t["input"] == "0x01" and t["type"] == "0x2", "full transactions", json.dumps(t))
ok(r["result"][0]["calls"][0]["logs"] == [] and r["result"][0]["calls"][0]["returnData"] == "0x01", "echo")
ok(t["hash"] == r["result"][0]["transactions"][0]["hash"] if isinstance(r["result"][0]["transactions"][0], dict) else False, "full transaction hash")

# geth's vectors (execution-apis ethSimulate-eth-send-should-produce-logs on its
# chain): one 1000-wei transfer with traceTransfers has this receipts root and
# an empty bloom; the transaction hash is checked in test_block.c.
r = sim({"traceTransfers": True, "blockStateCalls": [{"stateOverrides": {addr(0xc0 << 152): {"balance": "0x7d0"}},
        "calls": [{"from": addr(0xc0 << 152), "to": addr(0xc1 << 152), "value": "0x3e8"}]}]})
b0 = r["result"][0]
ok(b0["receiptsRoot"] == "0xf78dfb743fbd92ade140711c8bbc542b5e307f0ab7984eff35d751969fe57efa" and b0["logsBloom"] == "0x" + "00" * 256
   and b0["calls"][0]["maxUsedGas"] == "0x5208" and len(b0["calls"][0]["logs"]) == 1, "geth's receipts root and bloom for a traced transfer", json.dumps(b0)[:600])

# movePrecompileToAddress: sha256 answers at the new address, the old runs code
r = sim({"blockStateCalls": [{"stateOverrides": {addr(2): {"movePrecompileToAddress": addr(0x1234), "code": CODE[ECHO]}},
                              "calls": [{"to": addr(0x1234), "input": "0x"}, {"to": addr(2), "input": "0xab"}]}]})
cs = r["result"][0]["calls"] if "result" in r else []
ok(len(cs) == 2 and cs[0]["returnData"] == "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" and cs[1]["returnData"] == "0xab",
   "movePrecompileToAddress", json.dumps(r))

# PREVRANDAO: the override, else zero (geth's header has no other)
r = sim({"blockStateCalls": [{"calls": [{"to": PREVRANDAO}]},
                             {"blockOverrides": {"prevRandao": "0x" + word(77)}, "calls": [{"to": PREVRANDAO}]}]})
ok([b["calls"][0]["returnData"] for b in r["result"]] == ["0x" + word(0), "0x" + word(77)] and r["result"][1]["mixHash"] == "0x" + word(77),
   "PREVRANDAO and mixHash", json.dumps([b["calls"] for b in r["result"]]))

# contract creation: the call returns the deployed code, which runs in the next block
r = sim({"blockStateCalls": [{"calls": [{"from": addr(0xc4ea7e), "input": "0x600b600c600039600b6000f3" + CODE[READ][2:]}]},
                             {"calls": [{"to": "0x6a51da8bb2e1f5a9a3e5c5bc5fa97a8b36e15b61"}]}]})
ok(r["result"][0]["calls"][0]["returnData"] == CODE[READ] and r["result"][0]["calls"][0]["status"] == "0x1", "creation returns the code", json.dumps(r)[:300])

# state carried across blocks, nonce increases
r = sim({"blockStateCalls": [{"calls": [{"from": s0, "to": COUNTER}, {"from": s0, "to": COUNTER}]}, {"calls": [{"from": s0, "to": COUNTER}]}]})
ok([int(b["calls"][k]["returnData"], 16) for b in r["result"] for k in range(len(b["calls"]))] == [6, 7, 8], "state carries across blocks")
r = sim({"validation": True, "blockStateCalls": [{"blockOverrides": {"baseFeePerGas": "0x1"}, "calls": [
    {"from": s0, "to": ECHO, "maxFeePerGas": "0x10"}, {"from": s0, "to": ECHO, "maxFeePerGas": "0x10", "nonce": "0x1"}]}]})
ok("result" in r and len(r["result"][0]["calls"]) == 2, "validation: nonces increase", json.dumps(r)[:400])

# --- errors, the spec's codes
def expect(name, payload, code, tag="latest", params=None):
    res = rpc(JURL, "eth_simulateV1", params if params is not None else [payload, tag])
    ok(code_of(res) == code, name + ": code %d" % code, json.dumps(res)[:600])

expect("no params", None, -32602, params=[])
expect("payload not an object", None, -32602, params=["x"])
expect("blockStateCalls not an array", {"blockStateCalls": {}}, -32602)
expect("empty blockStateCalls", {"blockStateCalls": []}, -32602)
expect("257 blocks", {"blockStateCalls": [{}] * 257}, -38026)
expect("block not an object", {"blockStateCalls": [5]}, -32602)
expect("blockOverrides not an object", {"blockStateCalls": [{"blockOverrides": []}]}, -32602)
expect("blockOverrides.number bad", {"blockStateCalls": [{"blockOverrides": {"number": "0xzz"}}]}, -32602)
expect("blockOverrides.time bad", {"blockStateCalls": [{"blockOverrides": {"time": 5}}]}, -32602)
expect("blockOverrides.gasLimit bad", {"blockStateCalls": [{"blockOverrides": {"gasLimit": "0x"}}]}, -32602)
expect("blockOverrides.feeRecipient bad", {"blockStateCalls": [{"blockOverrides": {"feeRecipient": "0x12"}}]}, -32602)
expect("blockOverrides.prevRandao bad", {"blockStateCalls": [{"blockOverrides": {"prevRandao": "0x12"}}]}, -32602)
expect("blockOverrides.baseFeePerGas bad", {"blockStateCalls": [{"blockOverrides": {"baseFeePerGas": "12"}}]}, -32602)
expect("blockOverrides.blobBaseFee bad", {"blockStateCalls": [{"blockOverrides": {"blobBaseFee": True}}]}, -32602)
expect("blockOverrides.beaconRoot bad", {"blockStateCalls": [{"blockOverrides": {"beaconRoot": "0x1"}}]}, -32602)
expect("blockOverrides.withdrawals bad", {"blockStateCalls": [{"blockOverrides": {"withdrawals": {}}}]}, -32602)
expect("withdrawal amount bad", {"blockStateCalls": [{"blockOverrides": {"withdrawals": [{"amount": "x"}]}}]}, -32602)
expect("blockOverrides unknown field", {"blockStateCalls": [{"blockOverrides": {"colour": "0x1"}}]}, -32602)
expect("stateOverrides not an object", {"blockStateCalls": [{"stateOverrides": []}]}, -32602)
expect("stateOverrides bad balance", {"blockStateCalls": [{"stateOverrides": {s0: {"balance": "1"}}}]}, -32602)
expect("stateOverrides bad address", {"blockStateCalls": [{"stateOverrides": {"0x12": {}}}]}, -32602)
expect("calls not an array", {"blockStateCalls": [{"calls": {}}]}, -32602)
expect("call not an object", {"blockStateCalls": [{"calls": [1]}]}, -32602)
expect("call.to bad", {"blockStateCalls": [{"calls": [{"to": "0x1"}]}]}, -32602)
expect("call.value bad", {"blockStateCalls": [{"calls": [{"to": ECHO, "value": "0x01"}]}]}, -32602)
expect("traceTransfers not a bool", {"blockStateCalls": [{}], "traceTransfers": "yes"}, -32602)
expect("validation not a bool", {"blockStateCalls": [{}], "validation": 1}, -32602)
expect("returnFullTransactions not a bool", {"blockStateCalls": [{}], "returnFullTransactions": "x"}, -32602)
expect("block tag bad", {"blockStateCalls": [{}]}, -32602, tag="nope")
expect("block not the head", {"blockStateCalls": [{}]}, -32000, tag="0x5")
expect("block numbers out of order", {"blockStateCalls": [{"blockOverrides": {"number": "0x3"}}, {"blockOverrides": {"number": "0x2"}}]}, -38020)
expect("block number not above the head", {"blockStateCalls": [{"blockOverrides": {"number": "0x0"}}]}, -38020)
expect("timestamps out of order", {"blockStateCalls": [{"blockOverrides": {"time": "0x100"}}, {"blockOverrides": {"time": "0x100"}}]}, -38021)
expect("5001 calls in a block", {"blockStateCalls": [{"calls": [{}] * 5001}]}, -38026)
expect("10001 calls in all", {"blockStateCalls": [{"calls": [{}] * 5000}, {"calls": [{}] * 5000}, {"calls": [{}]}]}, -38026)
expect("block number too far", {"blockStateCalls": [{"blockOverrides": {"number": hex(257)}}]}, -38026)
expect("nonce too low", {"validation": True, "blockStateCalls": [{"blockOverrides": {"baseFeePerGas": "0x1"}, "stateOverrides": {s0: {"nonce": "0x5"}},
       "calls": [{"from": s0, "to": ECHO, "nonce": "0x1", "maxFeePerGas": "0x10"}]}]}, -38010)
expect("nonce at its maximum (validation)", {"validation": True, "blockStateCalls": [{"blockOverrides": {"baseFeePerGas": "0x1"},
       "stateOverrides": {s0: {"nonce": hex(2**64 - 1)}}, "calls": [{"from": s0, "to": ECHO, "maxFeePerGas": "0x10"}]}]}, -32603)
r = sim({"blockStateCalls": [{"stateOverrides": {s0: {"nonce": hex(2**64 - 1)}}, "calls": [{"from": s0, "to": ECHO}]}]})
ok("result" in r and r["result"][0]["calls"][0]["status"] == "0x1", "nonce at its maximum without validation runs (geth)", json.dumps(r)[:300])
expect("nonce too high", {"validation": True, "blockStateCalls": [{"blockOverrides": {"baseFeePerGas": "0x1"},
       "calls": [{"from": s0, "to": ECHO, "nonce": "0x9", "maxFeePerGas": "0x10"}]}]}, -38011)
expect("base fee too low (validation)", {"validation": True, "blockStateCalls": [{"calls": [{"from": s0, "to": ECHO}]}]}, -38012)
expect("base fee too low (fee given, no validation)", {"blockStateCalls": [{"blockOverrides": {"baseFeePerGas": "0x100"},
       "calls": [{"from": s0, "to": ECHO, "maxFeePerGas": "0x10"}]}]}, -38012)
expect("intrinsic gas", {"blockStateCalls": [{"calls": [{"from": s0, "to": ECHO, "gas": "0x5000"}]}]}, -38013)
expect("insufficient funds", {"blockStateCalls": [{"calls": [{"from": addr(0xdead99), "to": ECHO, "value": "0x1"}]}]}, -38014)
expect("block gas limit", {"blockStateCalls": [{"blockOverrides": {"gasLimit": "0x10000"}, "calls": [{"from": s0, "to": ECHO, "gas": "0x20000"}]}]}, -38015)
r = sim({"blockStateCalls": [{"blockOverrides": {"gasLimit": "0x10000"}, "calls": [{"from": s0, "to": ECHO, "gas": "0x20000"}]}]})
ok(r.get("error", {}).get("message") == "block gas limit reached: remaining: 65536, required: 131072", "block gas limit in geth's words", json.dumps(r))
expect("block gas limit (cumulative)", {"blockStateCalls": [{"blockOverrides": {"gasLimit": "0x10000"}, "calls": [
       {"from": s0, "to": LOOP}, {"from": s0, "to": ECHO, "gas": "0x8000"}]}]}, -38015)
expect("initcode too large", {"validation": True, "blockStateCalls": [{"blockOverrides": {"baseFeePerGas": "0x1"},
       "calls": [{"from": s0, "input": "0x" + "00" * 49153, "maxFeePerGas": "0x10", "gas": "0x1000000"}]}]}, -38025)
expect("move from a non-precompile", {"blockStateCalls": [{"stateOverrides": {ECHO: {"movePrecompileToAddress": addr(0x99)}}}]}, -32000)
expect("priority fee above max fee", {"blockStateCalls": [{"calls": [{"from": s0, "to": ECHO, "maxFeePerGas": "0x1", "maxPriorityFeePerGas": "0x2"}]}]}, -32602)
print("RESULT %d %d" % (passed, failed))
PY

python3 "$TMP/simulate.py" "$JURL" "$AURL" "$TOKEN" "${SIMULATE_E2E_DUMP:-}" > "$TMP/out.txt" 2>&1
cat "$TMP/out.txt" | grep -v '^RESULT'
P=$(sed -n 's/^RESULT \([0-9]*\) .*/\1/p' "$TMP/out.txt")
F=$(sed -n 's/^RESULT [0-9]* \([0-9]*\)/\1/p' "$TMP/out.txt")
if [ -z "$P" ]; then fail "the comparison script ran to its end"; P=0; F=0; fi
PASSED=$((PASSED + P))
FAILED=$((FAILED + F))

# The gas cap is one pool for the request; the timeout covers the request.
kill "$JPID" 2> /dev/null
wait "$JPID" 2> /dev/null
JPID=
DB=$TMP/db
serve_db "$TMP/capped.log" --gas-cap 150000 --call-timeout 300ms
JPID=$SERVER_PID
LOOPC=0x000000000000000000000000000000000000c10b
# The first loop (~89k gas) leaves ~61k: the second gets only that and runs
# out of it (geth notes the cap in its error); a third gets the empty
# budget's 0 gas and is refused for its intrinsic gas (geth's gasBudget).
BODY='[{"blockStateCalls":[{"calls":[{"to":"'$LOOPC'"},{"to":"'$LOOPC'"}]}]}]'
OUT=$(post "$URL" "$(req eth_simulateV1 "$BODY")")
check "the gas cap is shared by the request's calls" '"gasUsed":"0xee33","maxUsedGas":"0xee33","status":"0x0"' "$OUT"
check "a call the gas cap lowered says so (geth)" '"message":"out of gas (gas limit was capped by the RPC server'"'"'s global gas cap)"' "$OUT"
BODY='[{"blockStateCalls":[{"calls":[{"to":"'$LOOPC'"}]},{"calls":[{"to":"'$LOOPC'"},{"to":"'$LOOPC'"}]}]}]'
OUT=$(post "$URL" "$(req eth_simulateV1 "$BODY")")
check "an empty gas budget leaves the next call no gas" '"code":-38013,"message":"err: intrinsic gas too low: have 0, want 21000 (supplied gas 0)"' "$OUT"
# 256 blocks of a 30M-gas endless loop each: far more than 300ms in all,
# though each call alone is quicker.
SLOWC=0x000000000000000000000000000000000000c1ff
BLOCKS='{"stateOverrides":{"'$SLOWC'":{"code":"0x5b600056"}},"calls":[{"to":"'$SLOWC'"}]}'
i=1
while [ $i -lt 256 ]; do BLOCKS="$BLOCKS"',{"calls":[{"to":"'$SLOWC'"}]}'; i=$((i + 1)); done
BODY='[{"blockStateCalls":['"$BLOCKS"']}]'
stop_server > /dev/null 2>&1
serve_db "$TMP/timeout.log" --gas-cap 0 --call-timeout 300ms
JPID=$SERVER_PID
OUT=$(post "$URL" "$(req eth_simulateV1 "$BODY")")
check "the call timeout covers the whole request" '"code":-32016,"message":"execution aborted (timeout = 300ms)' "$OUT"

# The first block's base fee (validation) and excess blob gas follow from
# what the head used (geth's CalcBaseFee/CalcExcessBlobGas of the parent):
# a head imported from a node's header carries its gasUsed and blobGasUsed.
# 20M of 30M used at 1 gwei: 1e9 + 1e9 * 5M / 15M / 8 = 1041666666; 9 blobs
# over a target of 6: excess 393216.
stop_server > /dev/null 2>&1
cat > "$TMP/head.json" << 'JSON'
{"number":"0x10","hash":"0x1010101010101010101010101010101010101010101010101010101010101010",
 "parentHash":"0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","timestamp":"0x100",
 "gasLimit":"0x1c9c380","gasUsed":"0x1312d00","blobGasUsed":"0x120000","excessBlobGas":"0x0",
 "miner":"0x0000000000000000000000000000000000000000","baseFeePerGas":"0x3b9aca00"}
JSON
"$JITEVM" import --db "$DB" --head "$TMP/head.json" > "$TMP/import-head.log" 2>&1 || cat "$TMP/import-head.log"
serve_db "$TMP/head.log"
JPID=$SERVER_PID
OUT=$(post "$URL" "$(req eth_simulateV1 '[{"validation":true,"blockStateCalls":[{}]}]')")
check "validation: the first base fee follows the head's real gasUsed" '"baseFeePerGas":"0x3e16926a"' "$OUT"
check "the first excess blob gas follows the head's blobGasUsed" '"excessBlobGas":"0x60000"' "$OUT"
OUT=$(post "$URL" "$(req eth_simulateV1 '[{"blockStateCalls":[{}]}]')")
check "without validation the base fee is 0 (geth)" '"baseFeePerGas":"0x0"' "$OUT"
# The same head's usage in the block and fee methods: eth_getBlockByNumber
# shows it, and eth_feeHistory's ratios and next base fees follow from it
# (20M of 30M: 0.666...; 9 blobs of at most 9 (Osaka): ratio 1).
OUT=$(post "$URL" "$(req eth_getBlockByNumber '["latest",false]')")
check "eth_getBlockByNumber: the head's gasUsed" '"gasUsed":"0x1312d00"' "$OUT"
check "eth_getBlockByNumber: the head's blobGasUsed" '"blobGasUsed":"0x120000"' "$OUT"
OUT=$(post "$URL" "$(req eth_feeHistory '["0x1","latest",[]]')")
check "eth_feeHistory: the next base fee follows the head's gasUsed" '"baseFeePerGas":["0x3b9aca00","0x3e16926a"]' "$OUT"
check "eth_feeHistory: the head's gasUsedRatio" '"gasUsedRatio":[0.66666666666666663]' "$OUT"
check "eth_feeHistory: the head's blobGasUsedRatio" '"blobGasUsedRatio":[1.0]' "$OUT"

# The dev chain (`init --chain dev`, what `make run` serves) holds the
# system contracts in its genesis, as geth's dev mode does: its Prague+
# blocks simulate, the EIP-4788 contract answers the beacon root given for
# a block's timestamp, and the EIP-2935 contract the hash of the block
# before (the hash eth_simulateV1 gave it).
kill "$JPID" 2> /dev/null
wait "$JPID" 2> /dev/null
DB=$TMP/dev.db
"$JITEVM" init --db "$DB" --chain dev > "$TMP/init-dev.log" 2>&1 || cat "$TMP/init-dev.log"
serve_db "$TMP/dev.log"
JPID=$SERVER_PID
ROOT=0x00000000000000000000000000000000000000000000000000000000000000be
OUT=$(post "$URL" "$(req eth_simulateV1 "[{\"blockStateCalls\":[{\"blockOverrides\":{\"time\":\"0x1000\",\"beaconRoot\":\"$ROOT\"}},
  {\"calls\":[{\"to\":\"0x000f3df6d732807ef1319fb7b8bb8522d0beac02\",\"input\":\"0x0000000000000000000000000000000000000000000000000000000000001000\"},
               {\"to\":\"0x0000f90827f1c53a10cb7a02335b175320002935\",\"input\":\"0x0000000000000000000000000000000000000000000000000000000000000001\"}]}]}]")")
FIRST_HASH=$(printf '%s' "$OUT" | python3 -c 'import json, sys; print(json.load(sys.stdin)["result"][0]["hash"])' 2> /dev/null)
check "dev chain: a Prague+ block simulates, requests from empty queues" '"requestsHash":"0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"' "$OUT"
check "dev chain: the EIP-4788 contract holds the block's beacon root" "\"returnData\":\"$ROOT\"" "$OUT"
check "dev chain: the EIP-2935 contract holds the parent's hash" "\"returnData\":\"${FIRST_HASH:-none}\"" "$OUT"
# Its block 0 is geth's genesis of that alloc (the hash `init` computes,
# tests/test_block.c checks the header against geth's and anvil's), so
# eth_config has EIP-2124's forkId: CRC-32 of the genesis hash, every fork
# being active at genesis (computed here with zlib).
GENESIS=$(post "$URL" "$(req eth_getBlockByNumber '["latest",false]')" | python3 -c 'import json, sys; print(json.load(sys.stdin)["result"]["hash"])')
FORK_ID=$(python3 -c "import zlib, sys; print('0x%08x' % zlib.crc32(bytes.fromhex(sys.argv[1][2:])))" "$GENESIS")
OUT=$(post "$URL" "$(req eth_config '[]')")
check "dev chain: eth_config's forkId is CRC-32 of the genesis hash" "\"forkId\":\"$FORK_ID\"" "$OUT"
case $GENESIS in 0x0000000000000000000000000000000000000000000000000000000000000000|"") fail "dev chain: block 0 has a hash" "" "$GENESIS" ;; *) pass ;; esac

echo "simulate-e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
