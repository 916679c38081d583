#!/usr/bin/env python3
"""A JSON-RPC proxy in front of a node, for tests/fork-e2e.sh (loopback
only): it passes every request through unchanged unless the mode file says
otherwise. The mode is read again for each request, so a test changes the
upstream's behaviour while jitevm runs:

  ok          pass through
  nodebug     debug_* methods answer -32601 (a node without the debug API)
  stall       debug_traceBlockByNumber answers -32000 (jitevm cannot apply
              new blocks, so its head lags)
  noproof     eth_getProof answers -32601 (a node without it)
  slow:SECS   requests carrying eth_getBalance, eth_getProof or
              eth_getStorageAt wait SECS before they pass
  hold:ADDR   requests carrying one of those methods with ADDR among its
              parameters wait until the mode changes (30 s at most), so a
              test decides when they reach the node
  otherblock  in a batch carrying eth_getBalance or eth_getStorageAt, the
              balances answered are one more and a block answered by
              eth_getBlockByNumber has another hash: as a node answers just
              after a reorg replaced its block at that height, for the
              dropped block, from the state it now has
  aheadonce   the first batch carrying eth_getBlockByNumber with
              eth_getBalance or eth_getStorageAt (a drift check's) after
              the mode is set answers every balance and slot one more, the
              next ones pass through: as a node answers for its head block
              from the state the next block is being written to

Every HTTP request's methods are appended to MODE_FILE.requests, one line
per request (comma-separated, in order), for a test to read what was asked
in which round trip.

Usage: upstream_proxy.py PORT UPSTREAM_URL MODE_FILE
"""
import json, sys, threading, time, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, UPSTREAM, MODE_FILE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
requests_lock = threading.Lock()
altered_once = {"done": False}  # aheadonce: whether its one batch was altered


def mode():
    try:
        with open(MODE_FILE) as f:
            return f.read().strip()
    except OSError:
        return "ok"


def refused(req, m):
    if m == "nodebug" and req.get("method", "").startswith("debug_"):
        return {"code": -32601, "message": "the method %s does not exist/is not available" % req["method"]}
    if m == "noproof" and req.get("method") == "eth_getProof":
        return {"code": -32601, "message": "the method eth_getProof does not exist/is not available"}
    if m == "stall" and req.get("method") == "debug_traceBlockByNumber":
        return {"code": -32000, "message": "stalled by the test proxy"}
    return None


class Proxy(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        m = mode()
        msg = json.loads(body)
        reqs = msg if isinstance(msg, list) else [msg]
        with requests_lock, open(MODE_FILE + ".requests", "a") as f:
            f.write(",".join(str(r.get("method")) for r in reqs) + "\n")
        slowed = ("eth_getBalance", "eth_getProof", "eth_getStorageAt")
        if m.startswith("slow:") and any(r.get("method") in slowed for r in reqs):
            time.sleep(float(m[5:]))
        if m.startswith("hold:") and any(r.get("method") in slowed and m[5:].lower() in json.dumps(r.get("params")).lower()
                                         for r in reqs):
            deadline = time.time() + 30
            while mode() == m and time.time() < deadline:
                time.sleep(0.02)
        errors = {i: e for i, e in ((i, refused(r, m)) for i, r in enumerate(reqs)) if e}
        answers = [None] * len(reqs)
        rest = [r for i, r in enumerate(reqs) if i not in errors]
        if rest:
            up = urllib.request.Request(UPSTREAM, json.dumps(rest if isinstance(msg, list) else rest[0]).encode(),
                                        {"Content-Type": "application/json"})
            got = json.loads(urllib.request.urlopen(up, timeout=30).read())
            got = got if isinstance(got, list) else [got]
            k = 0
            for i in range(len(reqs)):
                if i not in errors:
                    answers[i] = got[k]
                    k += 1
        if m == "otherblock" and isinstance(msg, list) and any(r.get("method") in ("eth_getBalance", "eth_getStorageAt") for r in reqs):
            for r, a in zip(reqs, answers):
                if a is None or "result" not in a:
                    continue
                if r.get("method") == "eth_getBalance":
                    a["result"] = hex(int(a["result"], 16) + 1)
                elif r.get("method") == "eth_getBlockByNumber" and a["result"]:
                    a["result"]["hash"] = "0x" + "ee" * 32
        methods = [r.get("method") for r in reqs]
        if m != "aheadonce":
            altered_once["done"] = False
        elif (not altered_once["done"] and "eth_getBlockByNumber" in methods and
              ("eth_getBalance" in methods or "eth_getStorageAt" in methods)):
            altered_once["done"] = True
            for r, a in zip(reqs, answers):
                if a is not None and "result" in a and r.get("method") in ("eth_getBalance", "eth_getStorageAt"):
                    v = int(a["result"], 16) + 1
                    a["result"] = hex(v) if r["method"] == "eth_getBalance" else "0x%064x" % v
        for i, e in errors.items():
            answers[i] = {"jsonrpc": "2.0", "id": reqs[i].get("id"), "error": e}
        out = json.dumps(answers if isinstance(msg, list) else answers[0]).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a held request past its timeout)


ThreadingHTTPServer(("127.0.0.1", PORT), Proxy).serve_forever()
