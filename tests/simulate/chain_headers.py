# The head chain of an execution-apis checkout (tests/chain.rlp) as the
# headers `jitevm import --head` reads; block hashes through a running
# jitevm's web3_sha3 (keccak256). Usage: chain_headers.py CHAIN.rlp URL
import json, sys, urllib.request
def dec(b, i=0):
    p = b[i]
    if p < 0x80: return b[i:i+1], i+1
    if p < 0xb8: n = p-0x80; return b[i+1:i+1+n], i+1+n
    if p < 0xc0:
        ln = p-0xb7; n = int.from_bytes(b[i+1:i+1+ln], 'big'); s = i+1+ln; return b[s:s+n], s+n
    if p < 0xf8: n = p-0xc0; s = i+1
    else:
        ln = p-0xf7; n = int.from_bytes(b[i+1:i+1+ln], 'big'); s = i+1+ln
    out = []; j = s
    while j < s+n:
        it, j = dec(b, j); out.append(it)
    return out, s+n
def enc(x):
    if isinstance(x, list):
        body = b"".join(enc(y) for y in x)
        return (bytes([0xc0+len(body)]) if len(body) < 56 else bytes([0xf7+len(len(body).to_bytes(8,'big').lstrip(b'\0'))]) + len(body).to_bytes(8,'big').lstrip(b'\0')) + body
    if len(x) == 1 and x[0] < 0x80: return x
    if len(x) < 56: return bytes([0x80+len(x)]) + x
    l = len(x).to_bytes(8,'big').lstrip(b'\0'); return bytes([0xb7+len(l)]) + l + x
data = open(sys.argv[1], 'rb').read()
url = sys.argv[2]
i = 0; blocks = []
while i < len(data):
    blk, i = dec(data, i); blocks.append(blk)
def q(b): return hex(int.from_bytes(b, 'big'))
def keccak(b):
    body = json.dumps({"jsonrpc":"2.0","id":1,"method":"web3_sha3","params":["0x"+b.hex()]}).encode()
    return json.loads(urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type":"application/json"})).read())["result"]
out = []
for blk in blocks:
    h = blk[0]
    o = {"parentHash": "0x"+h[0].hex(), "miner": "0x"+h[2].hex(), "difficulty": q(h[7]), "number": q(h[8]),
         "gasLimit": q(h[9]), "gasUsed": q(h[10]), "timestamp": q(h[11]), "mixHash": "0x"+h[13].hex(),
         "hash": keccak(enc(h))}
    if len(h) > 15: o["baseFeePerGas"] = q(h[15])
    if len(h) > 18: o["blobGasUsed"] = q(h[17]); o["excessBlobGas"] = q(h[18]); o["parentBeaconBlockRoot"] = "0x"+h[19].hex()
    out.append(o)
json.dump(out, sys.stdout)
