#!/usr/bin/env python3
"""A soak of `jitevm serve --follow` in front of a live upstream (an anvil on
loopback, automining): for SECONDS, a miner sends token and ether transfers
to the upstream (a block each), every REORG_EVERY seconds it replaces the
last blocks by a different branch (evm_snapshot / evm_revert, then new
blocks), and CLIENTS threads ask jitevm for balances, storage, calls and
gas estimates at latest over keep-alive connections.

What fails it (exit 1):
- any answer that is not a result (an error object, a transport failure,
  an HTTP status but 200): the upstream stays up, so nothing may fail;
- every CHECK_EVERY seconds, and at the end, the miner pauses, jitevm must
  reach the upstream's head (same block hash) within 15 s, and then every
  holder's token balance (eth_call), ether balance and storage slot must
  equal the upstream's;
- a drift found by jitevm's own drift check (jitevm_follow_drift_total):
  the applied diffs must have kept the cache right, with nothing to drop;
- the server's RSS growing after the warm-up (the first quarter) by more
  than 25% and 32 MB.
Every 5 s a line gives the requests, the errors, the blocks and reorgs
made, the heads and the server's RSS.

Usage: soak_live.py JITEVM_URL UPSTREAM_URL SERVER_PID SECONDS TOKEN FROM [CLIENTS]
"""
import http.client, json, random, sys, threading, time
from urllib.parse import urlparse

from soak_common import rss_after_warmup, rss_mb

JURL, UURL, PID, SECONDS, TOKEN, FROM = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
CLIENTS = int(sys.argv[7]) if len(sys.argv) > 7 else 8
CHECK_EVERY, REORG_EVERY, REORG_DEPTH = 10.0, 20.0, 3
HOLDERS = ["0x%040x" % (0xc0de0000 + i) for i in range(32)]


class Rpc:
    """One keep-alive connection; call() returns (result, None) or (None, why)."""

    def __init__(self, url):
        u = urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def call(self, method, params):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.conn.request("POST", "/", body, {"Content-Type": "application/json"})
                r = self.conn.getresponse()
                text = r.read()
                if r.status != 200:
                    return None, "HTTP %d: %s" % (r.status, text[:200])
                v = json.loads(text)
                if not isinstance(v, dict) or "result" not in v:
                    err = v.get("error") if isinstance(v, dict) else None
                    if isinstance(err, dict):
                        return None, "error %s: %s" % (err.get("code"), err.get("message"))
                    return None, "no result: %s" % text[:200]
                return v["result"], None
            except (http.client.HTTPException, OSError, ValueError) as e:
                self.conn = None
                # A kept-alive connection the server closed while idle: once more.
                if attempt == 1 or not isinstance(e, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
                    return None, "transport: %r" % e
        return None, "unreachable"

    def must(self, method, params):
        v, why = self.call(method, params)
        if why:
            raise RuntimeError("%s %s: %s" % (method, json.dumps(params)[:120], why))
        return v


def word(hex_addr):
    return hex_addr[2:].rjust(64, "0")


def balance_call(holder):
    return [{"to": TOKEN, "data": "0x70a08231" + word(holder)}, "latest"]


lock = threading.Lock()           # the counters below
chain_lock = threading.Lock()     # held by the miner while it makes blocks, by the checker while it compares
stop_at = time.time() + SECONDS
counts = {"requests": 0, "errors": 0, "blocks": 0, "reorgs": 0, "checks": 0}
errors, failures = [], []
slots = {}                        # holder -> its balance slot (keccak(holder . 0)), from the upstream


def count(key, n=1):
    with lock:
        counts[key] += n


def client(seed):
    rng = random.Random(seed)
    rpc = Rpc(JURL)
    while time.time() < stop_at and not failures:
        h = rng.choice(HOLDERS)
        k = rng.random()
        if k < 0.45:
            m, p = "eth_call", balance_call(h)
        elif k < 0.65:
            m, p = "eth_getBalance", [h, "latest"]
        elif k < 0.85:
            m, p = "eth_getStorageAt", [TOKEN, slots[h], "latest"]
        elif k < 0.95:
            m, p = "eth_estimateGas", [{"from": FROM, "to": TOKEN, "data": "0xa9059cbb" + word(h) + word("0x1")}]
        else:
            m, p = "eth_blockNumber", []
        _, why = rpc.call(m, p)
        count("requests")
        if why:
            count("errors")
            with lock:
                if len(errors) < 10:
                    errors.append("%s %s: %s" % (m, json.dumps(p)[:100], why))


def send(up, rng):
    """One transaction on the upstream, returned once anvil has mined it
    into a block (it answers eth_sendTransaction before: a revert in that
    instant leaves its chain in a state its own methods disagree on)."""
    h = rng.choice(HOLDERS)
    if rng.random() < 0.7:
        tx = {"from": FROM, "to": TOKEN, "data": "0xa9059cbb" + word(h) + word(hex(rng.randint(1, 10**6)))}
    else:
        tx = {"from": FROM, "to": h, "value": hex(rng.randint(1, 10**15))}
    tx_hash = up.must("eth_sendTransaction", [tx])
    deadline = time.time() + 10
    while not (up.must("eth_getTransactionReceipt", [tx_hash]) or {}).get("blockNumber"):
        if time.time() > deadline:
            raise RuntimeError("the upstream did not mine %s in 10 s" % tx_hash)
        time.sleep(0.005)
    count("blocks")


def upstream_height(up):
    return int(up.must("eth_blockNumber", []), 16)


def miner():
    rng = random.Random(7)
    up = Rpc(UURL)
    next_reorg = time.time() + REORG_EVERY
    try:
        while time.time() < stop_at and not failures:
            with chain_lock:
                if time.time() >= next_reorg:
                    # A branch of REORG_DEPTH blocks, then a different one
                    # from the same parent: jitevm walks back over its undo
                    # records and applies the new blocks.
                    snap, base = up.must("evm_snapshot", []), upstream_height(up)
                    for _ in range(REORG_DEPTH):
                        send(up, rng)
                    time.sleep(1.5)  # jitevm follows the first branch before it is dropped
                    if not up.must("evm_revert", [snap]) or upstream_height(up) != base:
                        raise RuntimeError("evm_revert did not take the upstream back to block %d" % base)
                    for _ in range(REORG_DEPTH + 1):
                        send(up, rng)
                    if upstream_height(up) != base + REORG_DEPTH + 1:
                        raise RuntimeError("the upstream's new branch is not %d blocks long" % (REORG_DEPTH + 1))
                    count("reorgs")
                    next_reorg = time.time() + REORG_EVERY
                else:
                    send(up, rng)
            time.sleep(rng.uniform(0.05, 0.25))
    except Exception as e:  # any: a miner that stops must fail the soak, not leave it quiet
        failures.append("miner: %s" % e)


def compare():
    """With the chain held still: jitevm reaches the upstream's head, then
    every holder reads the same on both."""
    up, j = Rpc(UURL), Rpc(JURL)
    head = up.must("eth_getBlockByNumber", ["latest", False])
    deadline = time.time() + 15
    while True:
        # Right after a reorg, jitevm's head may be a block the upstream
        # dropped: its block is then an error saying so, until --follow
        # moves on. Asked again until the deadline.
        mine, why = j.call("eth_getBlockByNumber", ["latest", False])
        if mine and mine["hash"] == head["hash"]:
            break
        if time.time() > deadline:
            raise RuntimeError("jitevm at %s, the upstream at %d %s after 15 s" % (
                "block %d %s" % (int(mine["number"], 16), mine["hash"]) if mine else why, int(head["number"], 16), head["hash"]))
        time.sleep(0.05)
    if mine != head:
        raise RuntimeError("the head block %d: jitevm %s, the upstream %s" % (int(head["number"], 16), json.dumps(mine)[:300], json.dumps(head)[:300]))
    for h in HOLDERS:
        for m, p in (("eth_call", balance_call(h)), ("eth_getBalance", [h, "latest"]),
                     ("eth_getStorageAt", [TOKEN, slots[h], "latest"])):
            a, b = j.must(m, p), up.must(m, p)
            if a != b:
                raise RuntimeError("at block %d, %s %s: jitevm %s, the upstream %s" % (
                    int(head["number"], 16), m, json.dumps(p)[:100], a, b))
    count("checks")


def checker():
    while time.time() < stop_at and not failures:
        time.sleep(CHECK_EVERY)
        if time.time() >= stop_at:
            break
        try:
            with chain_lock:
                compare()
        except Exception as e:
            failures.append("check: %s" % e)


def metric(name):
    u = urlparse(JURL)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request("GET", "/metrics")
    for line in c.getresponse().read().decode().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == name:
            return float(parts[1])
    return 0.0


def main():
    up = Rpc(UURL)
    for h in HOLDERS:
        slots[h] = "0x" + up.must("web3_sha3", ["0x" + word(h) + "0" * 64])[2:]
    threads = [threading.Thread(target=miner), threading.Thread(target=checker)]
    threads += [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    start, rss_seen, j = time.time(), [], Rpc(JURL)
    while any(t.is_alive() for t in threads):
        time.sleep(5)
        rss = rss_mb(PID)
        rss_seen.append((time.time() - start, rss))
        head, _ = j.call("eth_blockNumber", [])
        uhead, _ = up.call("eth_blockNumber", [])
        with lock:
            print("%5.0f s: %d requests, %d errors, %d blocks sent, %d reorgs, %d checks; head %s, upstream %s; RSS %.1f MB" % (
                time.time() - start, counts["requests"], counts["errors"], counts["blocks"], counts["reorgs"],
                counts["checks"], int(head, 16) if head else "?", int(uhead, 16) if uhead else "?", rss), flush=True)
    if not failures:
        try:
            compare()  # the final state, the miner stopped
        except Exception as e:
            failures.append("final check: %s" % e)
    drift = metric("jitevm_follow_drift_total")
    applied, undone, reorgs = metric("jitevm_follow_blocks_applied_total"), metric("jitevm_follow_blocks_undone_total"), metric("jitevm_follow_reorgs_total")
    print("jitevm: %d blocks applied, %d undone, %d reorgs seen, %d drift checks, %d drift found" % (
        applied, undone, reorgs, metric("jitevm_follow_drift_checks_total"), drift))
    if drift:
        failures.append("jitevm's drift check found %d difference(s): the followed cache went wrong" % drift)
    if counts["reorgs"] and not reorgs:
        failures.append("%d reorgs made on the upstream, none seen by jitevm" % counts["reorgs"])
    if counts["errors"]:
        failures.append("%d of %d requests failed, e.g. %s" % (counts["errors"], counts["requests"], "; ".join(errors[:3])))
    first, last, grew = rss_after_warmup(rss_seen, SECONDS)
    if grew:
        failures.append("RSS grew from %.1f MB to %.1f MB after the warm-up" % (first, last))
    if counts["checks"] == 0 and SECONDS >= 2 * CHECK_EVERY:
        failures.append("no comparison ran")
    print("soak-live: %d requests (%.0f/s), %d errors, %d blocks, %d reorgs, %d comparisons of %d holders" % (
        counts["requests"], counts["requests"] / SECONDS, counts["errors"], counts["blocks"], counts["reorgs"],
        counts["checks"], len(HOLDERS)))
    if failures:
        for f in failures:
            print("soak-live: FAILED: %s" % f)
        sys.exit(1)
    print("soak-live: passed")


main()
