# Runs each of execution-apis' eth_simulateV1 vectors (tests/eth_simulateV1/*.io:
# a request and geth's answer) against a jitevm and lists every field that
# differs, less the state root and what hashes it (jitevm's stateRoot is zero).
# Usage: compare_vectors.py URL DIR
import json, os, sys, urllib.request
url, d = sys.argv[1], sys.argv[2]
SKIP = {"hash", "parentHash", "stateRoot", "blockHash", "size", "transactionHash", "transactions", "receiptsRoot", "transactionsRoot"}
def strip(x):
    if isinstance(x, dict): return {k: strip(v) for k, v in x.items() if k not in SKIP}
    if isinstance(x, list): return [strip(v) for v in x]
    return x
def diff(a, b, path=""):
    if type(a) != type(b): return ["%s: %s != %s" % (path, json.dumps(a)[:200], json.dumps(b)[:200])]
    if isinstance(a, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b: out.append("%s.%s: only in %s" % (path, k, "ours" if k in a else "geth")); continue
            out += diff(a[k], b[k], path + "." + k)
        return out
    if isinstance(a, list):
        if len(a) != len(b): return ["%s: %d items != %d" % (path, len(a), len(b))]
        out = []
        for i, (x, y) in enumerate(zip(a, b)): out += diff(x, y, "%s[%d]" % (path, i))
        return out
    return [] if a == b else ["%s: %s != %s" % (path, json.dumps(a)[:200], json.dumps(b)[:200])]
agree = 0
names = sorted(os.listdir(d))
for name in names:
    lines = open(os.path.join(d, name)).read().splitlines()
    req = next(l[3:] for l in lines if l.startswith(">> "))
    want = json.loads(next(l[3:] for l in lines if l.startswith("<< ")))
    got = json.loads(urllib.request.urlopen(urllib.request.Request(url, req.encode(), {"Content-Type": "application/json"})).read())
    got.pop("id", None); want.pop("id", None)
    ds = diff(strip(got), strip(want))
    if not ds: agree += 1; continue
    print("%s: %d differences" % (name, len(ds)))
    for x in ds[:6]: print("   ", x)
print("agree %d of %d" % (agree, len(names)))
