#!/usr/bin/env python3
"""A soak of a running `jitevm serve` (loopback only): for SECONDS, THREADS
clients send a mix of eth_call, eth_estimateGas, batches, malformed bodies
and calls that run into the call timeout, over keep-alive connections.
Every answer is classed (ok, the JSON-RPC error code, or an HTTP/transport
failure); every 5 s a line gives the requests, the errors by class, the
latency p50/p99/max and the server's RSS. Fails (exit 1) on an unexpected
class (any transport failure, any HTTP status but 200, an error code the
mix does not provoke) or when the RSS after the warm-up (the first quarter)
grows by more than 25% and 32 MB.

Usage: soak.py HOST PORT SERVER_PID SECONDS [THREADS]
"""
import http.client, json, random, sys, threading, time

from soak_common import rss_after_warmup, rss_mb

HOST, PORT, PID, SECONDS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
THREADS = int(sys.argv[5]) if len(sys.argv) > 5 else 16
LOOP = "0x000000000000000000000000000000000000c003"
FOREVER = "0x000000000000000000000000000000000000c004"
SENDER = "0x00000000000000000000000000000000000000aa"
# The error codes the mix provokes: parse error, invalid request, method not
# found, and -32000 (the timeout-bound calls).
EXPECTED = {"ok", "-32700", "-32600", "-32601", "-32000"}


def req(m, p, i=1):
    return {"jsonrpc": "2.0", "id": i, "method": m, "params": p}


def body():
    k = random.random()
    if k < 0.55:
        return json.dumps(req("eth_call", [{"to": LOOP}, "latest"]))
    if k < 0.70:
        return json.dumps(req("eth_estimateGas", [{"from": SENDER, "to": LOOP}]))
    if k < 0.85:
        return json.dumps([req("eth_call", [{"to": LOOP}], i) for i in range(random.randint(2, 20))])
    if k < 0.95:
        return random.choice(['{"jsonrpc":"2.0","id":1,"method":', '[]', '{"id":1}', '{"jsonrpc":"2.0","id":1,"method":"nope"}'])
    return json.dumps(req("eth_call", [{"to": FOREVER, "gas": "0x2faf080"}]))


def classes(text):
    try:
        v = json.loads(text)
    except ValueError:
        return ["bad-json"]
    out = []
    for r in v if isinstance(v, list) else [v]:
        out.append(str(r["error"]["code"]) if "error" in r else "ok")
    return out


lock = threading.Lock()
counts, lat = {}, []
stop = time.time() + SECONDS


def client():
    conn = None
    while time.time() < stop:
        b = body()
        t0 = time.time()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            conn.request("POST", "/", b, {"Content-Type": "application/json"})
            r = conn.getresponse()
            text = r.read()
            cls = classes(text) if r.status == 200 else ["http-%d" % r.status]
        except (OSError, http.client.HTTPException) as e:
            cls = ["transport-" + type(e).__name__]
            conn = None
        dt = time.time() - t0
        with lock:
            lat.append(dt)
            for c in cls:
                counts[c] = counts.get(c, 0) + 1


def pct(v, p):
    return v[min(len(v) - 1, int(len(v) * p))] if v else 0


ts = [threading.Thread(target=client, daemon=True) for _ in range(THREADS)]
start = time.time()
[t.start() for t in ts]
rss = []
while time.time() < stop:
    time.sleep(min(5, max(0.1, stop - time.time())))
    with lock:
        v = sorted(lat)
        snapshot = dict(counts)
    rss.append((time.time() - start, rss_mb(PID)))
    print("t=%4.0fs requests=%d classes=%s p50=%.1fms p99=%.1fms max=%.1fms rss=%.1fMB" % (
        rss[-1][0], len(v), json.dumps(snapshot, sort_keys=True), pct(v, 0.5) * 1e3, pct(v, 0.99) * 1e3,
        (v[-1] if v else 0) * 1e3, rss[-1][1]), flush=True)
[t.join(timeout=35) for t in ts]
unexpected = sorted(set(counts) - EXPECTED)
first, last, grew = rss_after_warmup(rss, SECONDS)
ok = not unexpected and not grew
print("soak: %d requests; unexpected classes: %s; RSS after warm-up %.1f -> %.1f MB; %s" % (
    len(lat), unexpected or "none", first, last, "ok" if ok else "FAILED"))
sys.exit(0 if ok else 1)
