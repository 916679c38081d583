"""eth_getProof and eth_getStorageValues of a live `jitevm serve` against
anvil's on the same state, and every proof verified independently (run by
tests/state-methods-e2e.sh).

1. A state is made on anvil (accounts with and without storage and code,
   contracts with 1 to 200 slots), a block is mined so that its stateRoot
   is the state's root, and anvil's whole state (anvil_dumpState: also its
   own predeploys) is copied into jitevm through the admin methods.
2. eth_getProof answers of both servers are compared field by field
   (accounts with and without storage, several keys, absent slots, a key
   asked twice; absent accounts, where anvil departs from geth, are
   compared on their account proof and checked against geth's values).
3. Every proof is walked here from anvil's block stateRoot: node hashes,
   the path of keccak(address) / keccak(slot), the account leaf's fields
   and the slot values (Yellow Paper appendix D; keccak written here too).
4. eth_getStorageValues against anvil's.

Prints "ok NAME" or "FAIL: NAME ..." per check. Usage:
    python3 state_methods_check.py JITEVM_URL ANVIL_URL ADMIN_TOKEN OUT_ROOT_FILE
"""
import gzip
import json
import sys
import urllib.request

JURL, AURL, TOKEN, ROOT_FILE = sys.argv[1:5]

# ---------------------------------------------------------------- keccak-256

def _rol(v, n):
    n %= 64
    return ((v << n) | (v >> (64 - n))) & 0xFFFFFFFFFFFFFFFF


def _keccak_f(lanes):
    r = 1
    for _ in range(24):
        c = [lanes[x][0] ^ lanes[x][1] ^ lanes[x][2] ^ lanes[x][3] ^ lanes[x][4] for x in range(5)]
        d = [c[(x + 4) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
        for x in range(5):
            for y in range(5):
                lanes[x][y] ^= d[x]
        x, y = 1, 0
        cur = lanes[x][y]
        for t in range(24):
            x, y = y, (2 * x + 3 * y) % 5
            cur, lanes[x][y] = lanes[x][y], _rol(cur, (t + 1) * (t + 2) // 2)
        for y in range(5):
            row = [lanes[x][y] for x in range(5)]
            for x in range(5):
                lanes[x][y] = row[x] ^ ((~row[(x + 1) % 5]) & row[(x + 2) % 5])
        for j in range(7):
            r = ((r << 1) ^ ((r >> 7) * 0x71)) % 256
            if r & 2:
                lanes[0][0] ^= 1 << ((1 << j) - 1)


def keccak256(data):
    rate = 136
    padded = bytearray(data) + b"\x01"
    while len(padded) % rate:
        padded += b"\x00"
    padded[-1] |= 0x80
    lanes = [[0] * 5 for _ in range(5)]
    for off in range(0, len(padded), rate):
        block = padded[off:off + rate]
        for i in range(rate // 8):
            x, y = i % 5, i // 5
            lanes[x][y] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        _keccak_f(lanes)
    out = b"".join(lanes[i % 5][i // 5].to_bytes(8, "little") for i in range(4))
    return out


assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
assert keccak256(b"hello").hex() == "1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8"

# ----------------------------------------------------------------------- rlp

def rlp_decode(b, pos=0):
    """(item, end): item is bytes or a list of items."""
    p = b[pos]
    if p < 0x80:
        return b[pos:pos + 1], pos + 1
    if p < 0xB8:
        n = p - 0x80
        return b[pos + 1:pos + 1 + n], pos + 1 + n
    if p < 0xC0:
        ll = p - 0xB7
        n = int.from_bytes(b[pos + 1:pos + 1 + ll], "big")
        return b[pos + 1 + ll:pos + 1 + ll + n], pos + 1 + ll + n
    if p < 0xF8:
        n, start = p - 0xC0, pos + 1
    else:
        ll = p - 0xF7
        n, start = int.from_bytes(b[pos + 1:pos + 1 + ll], "big"), pos + 1 + ll
    items, q = [], start
    while q < start + n:
        item, q = rlp_decode(b, q)
        items.append(item)
    if q != start + n:
        raise ValueError("list length mismatch")
    return items, start + n


def rlp_encode(item):
    if isinstance(item, list):
        payload = b"".join(rlp_encode(i) for i in item)
        return _rlp_head(0xC0, len(payload)) + payload
    if len(item) == 1 and item[0] < 0x80:
        return bytes(item)
    return _rlp_head(0x80, len(item)) + bytes(item)


def _rlp_head(base, n):
    if n < 56:
        return bytes([base + n])
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([base + 55 + len(ln)]) + ln

# ------------------------------------------------------------------ verifier

EMPTY_ROOT = bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")


def nibbles(b):
    out = []
    for x in b:
        out += [x >> 4, x & 15]
    return out


def verify_proof(root, key, proof):
    """The value proven under keccak(key) (None: absent); raises when the proof does not hold."""
    path = nibbles(keccak256(key))
    nodes = [bytes.fromhex(p[2:]) for p in proof]
    if root == EMPTY_ROOT:
        if nodes:
            raise ValueError("a proof in the empty trie has no node")
        return None
    used, depth = 0, 0
    ref = root  # bytes (a hash) or a decoded embedded node (list)
    while True:
        if isinstance(ref, list):
            node = ref
        else:
            if len(ref) != 32:
                raise ValueError("reference of %d bytes" % len(ref))
            if used >= len(nodes):
                raise ValueError("proof ends before the path does")
            raw = nodes[used]
            used += 1
            if keccak256(raw) != ref:
                raise ValueError("node %d does not hash to its reference" % (used - 1))
            node, end = rlp_decode(raw)
            if end != len(raw):
                raise ValueError("trailing bytes in node")
        if len(node) == 17:
            if depth == len(path):
                value = node[16] or None
                break
            nxt = node[path[depth]]
            depth += 1
            if nxt == b"":
                value = None
                break
        elif len(node) == 2:
            hp = nibbles(node[0])
            flag = hp[0]
            seg = hp[1:] if flag & 1 else hp[2:]
            follows = path[depth:depth + len(seg)] == seg
            if flag & 2:  # leaf
                value = node[1] if follows and depth + len(seg) == len(path) else None
                break
            if not follows:
                value = None
                break
            depth += len(seg)
            nxt = node[1]
        else:
            raise ValueError("node with %d items" % len(node))
        if isinstance(nxt, list):
            if len(rlp_encode(nxt)) >= 32:
                raise ValueError("embedded node of 32 bytes or more")
        ref = nxt
    if used != len(nodes):
        raise ValueError("proof has %d nodes, the path used %d" % (len(nodes), used))
    return value

# ---------------------------------------------------------------- JSON-RPC

def rpc(url, method, params, token=None):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    return rpc_raw(url, body, token)


def rpc_raw(url, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


PASSED = FAILED = 0


def ok(name):
    global PASSED
    PASSED += 1
    print("ok " + name)


def fail(name, why):
    global FAILED
    FAILED += 1
    print("FAIL: %s: %s" % (name, why))


def check(name, cond, why=""):
    if cond:
        ok(name)
    else:
        fail(name, why)

# ------------------------------------------------------------ 1. the state

def addr(i):
    return "0x" + keccak256(b"state-methods-%d" % i)[:20].hex()


def word(n):
    return "0x%064x" % n


def slot_key(c, s):
    # Solidity-like slots: small ones and hashed ones.
    return word(s) if s % 3 else "0x" + keccak256(b"slot-%d-%d" % (c, s)).hex()


EOAS = [addr(i) for i in range(40)]
CONTRACTS = {addr(100 + c): n for c, n in enumerate([1, 2, 17, 60, 200, 0])}
setup = []
for i, a in enumerate(EOAS):
    setup.append(("anvil_setBalance", [a, hex(10 ** 18 * (i + 1) + i)]))
    if i % 4 == 0:
        setup.append(("anvil_setNonce", [a, hex(i + 1)]))
for c, (a, n) in enumerate(CONTRACTS.items()):
    setup.append(("anvil_setCode", [a, "0x6000355460005260206000f3" + "%02x" % c]))
    for s in range(n):
        setup.append(("anvil_setStorageAt", [a, slot_key(c, s), word(s * 7919 + 1)]))
for method, params in setup:
    r = rpc(AURL, method, params)
    if "error" in r:
        fail("anvil setup " + method, r["error"])
        sys.exit(1)
rpc(AURL, "evm_mine", [])
block = rpc(AURL, "eth_getBlockByNumber", ["latest", False])["result"]
ROOT = bytes.fromhex(block["stateRoot"][2:])
with open(ROOT_FILE, "w") as f:
    f.write(block["stateRoot"] + "\n")

dump = rpc(AURL, "anvil_dumpState", [])["result"]
state = json.loads(gzip.decompress(bytes.fromhex(dump[2:])))["accounts"]
batch = []
for a, acc in state.items():
    batch.append(("anvil_setBalance", [a, hex(int(str(acc["balance"]), 0))]))
    batch.append(("anvil_setNonce", [a, hex(int(str(acc["nonce"]), 0))]))
    if acc.get("code", "0x") not in ("0x", ""):
        batch.append(("anvil_setCode", [a, acc["code"]]))
    for k, v in acc.get("storage", {}).items():
        if int(v, 16):
            batch.append(("anvil_setStorageAt", [a, word(int(k, 16)), word(int(v, 16))]))
for i in range(0, len(batch), 500):
    body = json.dumps([{"jsonrpc": "2.0", "id": j, "method": m, "params": p}
                       for j, (m, p) in enumerate(batch[i:i + 500])]).encode()
    for r in rpc_raw(JURL, body, TOKEN):
        if "error" in r:
            fail("copy anvil's state into jitevm", r["error"])
            sys.exit(1)
ok("copied anvil's state (%d accounts) into jitevm" % len(state))

# --------------------------------------------------- 2, 3. eth_getProof

def verify_answer(name, res, expect_exists):
    try:
        leaf = verify_proof(ROOT, bytes.fromhex(res["address"][2:]), res["accountProof"])
    except ValueError as e:
        return fail(name + ": account proof", e)
    if leaf is None:
        check(name + ": absent account proven absent", not expect_exists, "proof says absent")
        return
    if not expect_exists:
        return fail(name + ": absent account", "proof shows a leaf")
    nonce, balance, storage_root, code_hash = rlp_decode(leaf)[0]
    check(name + ": leaf nonce", int.from_bytes(nonce, "big") == int(res["nonce"], 16), res["nonce"])
    check(name + ": leaf balance", int.from_bytes(balance, "big") == int(res["balance"], 16), res["balance"])
    check(name + ": leaf storageHash", "0x" + storage_root.hex() == res["storageHash"], res["storageHash"])
    check(name + ": leaf codeHash", "0x" + code_hash.hex() == res["codeHash"], res["codeHash"])
    for sp in res["storageProof"]:
        try:
            v = verify_proof(storage_root, int(sp["key"], 16).to_bytes(32, "big"), sp["proof"])
        except ValueError as e:
            fail(name + ": storage proof " + sp["key"], e)
            continue
        got = int.from_bytes(rlp_decode(v)[0], "big") if v else 0
        check(name + ": storage value " + sp["key"], got == int(sp["value"], 16), "%x vs %s" % (got, sp["value"]))


contract_list = list(CONTRACTS.items())
queries = []
for c, (a, n) in enumerate(contract_list):
    keys = [slot_key(c, s) for s in range(min(n, 5))] + [word(10 ** 6 + c), "0x" + "ff" * 32]
    if n:
        keys.append(slot_key(c, 0))  # asked twice
    queries.append(("contract %d (%d slots)" % (c, n), a, keys, True))
queries.append(("contract with 200 slots, all", contract_list[4][0], [slot_key(4, s) for s in range(200)], True))
queries.append(("an account with no storage, no keys", EOAS[3], [], True))
queries.append(("an account with no storage, keys", EOAS[4], [word(1), word(2)], True))
for a in state:
    if a.lower() not in [x.lower() for x in EOAS] and a.lower() not in [x.lower() for x in CONTRACTS]:
        acc = state[a]
        keys = [word(int(k, 16)) for k in list(acc.get("storage", {}))[:3]] + [word(12345)]
        queries.append(("anvil's predeploy " + a, a, keys, True))
for i in range(3):
    queries.append(("absent account %d" % i, addr(900 + i), [word(1), word(i)], False))

for name, a, keys, exists in queries:
    j = rpc(JURL, "eth_getProof", [a, keys, "latest"])
    n = rpc(AURL, "eth_getProof", [a, keys, "latest"])
    if "result" not in j or "result" not in n:
        fail(name, "jitevm %s / anvil %s" % (j.get("error"), n.get("error")))
        continue
    jr, nr = j["result"], n["result"]
    if exists and nr["storageHash"] == "0x" + EMPTY_ROOT.hex():
        # Empty storage: anvil proves each slot with the empty trie's node
        # ("0x80"); geth gives no node (internal/ethapi/api.go GetProof:
        # no storage trie when the root is the empty root). jitevm: geth's.
        for sp in nr["storageProof"]:
            if sp["proof"] == ["0x80"]:
                sp["proof"] = []
    if exists:
        check(name + ": identical to anvil", jr == nr, "\n  jitevm: %s\n  anvil:  %s" % (json.dumps(jr)[:600], json.dumps(nr)[:600]))
    else:
        # anvil answers an absent account with the empty code hash and root
        # and a one-node storage proof; geth with zeros and empty proofs.
        check(name + ": account proof identical to anvil", jr["accountProof"] == nr["accountProof"],
              "\n  jitevm: %s\n  anvil:  %s" % (jr["accountProof"], nr["accountProof"]))
        zero = "0x" + "00" * 32
        check(name + ": geth's zero hashes", jr["codeHash"] == zero and jr["storageHash"] == zero, jr)
        check(name + ": geth's empty storage proofs",
              all(sp["proof"] == [] and sp["value"] == "0x0" for sp in jr["storageProof"]), jr["storageProof"])
    verify_answer(name, jr, exists)

# geth's key echo: a 32-byte key as given, any other as a quantity.
r = rpc(JURL, "eth_getProof", [contract_list[0][0], ["0x01", "1", "0x" + "00" * 31 + "01", "0X1", ""], "latest"])
keys = [sp["key"] for sp in r["result"]["storageProof"]]
check("storage keys echoed as geth does", keys == ["0x1", "0x1", word(1), "0x1", "0x0"], keys)
check("short keys name the same slot", len({sp["value"] for sp in r["result"]["storageProof"][:4]}) == 1,
      r["result"]["storageProof"])

# ------------------------------------------------- 4. eth_getStorageValues

req = {contract_list[2][0]: [slot_key(2, s) for s in range(4)] + [word(999)],
       EOAS[0]: [word(0)],
       addr(901): [word(5)],
       contract_list[4][0].upper().replace("0X", "0x"): [slot_key(4, 7)]}
j = rpc(JURL, "eth_getStorageValues", [req, "latest"])
n = rpc(AURL, "eth_getStorageValues", [req, "latest"])
check("eth_getStorageValues identical to anvil", j.get("result") == n.get("result"),
      "\n  jitevm: %s\n  anvil:  %s" % (j, n))
lower = {k.lower(): v for k, v in req.items()}
want = {k: [word(int(rpc(JURL, "eth_getStorageAt", [k, s, "latest"])["result"], 16)) for s in v]
        for k, v in lower.items()}
check("eth_getStorageValues equals eth_getStorageAt", j.get("result") == want, j)

print("py: %d passed, %d failed" % (PASSED, FAILED))
sys.exit(1 if FAILED else 0)
