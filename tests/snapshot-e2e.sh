#!/bin/sh
# Kept read snapshots through HTTP (schema/store.c store_keep_snapshots):
# the HTTP threads keep their read transaction between requests while no
# commit happened. Checked on kept-alive connections (a connection's close
# ends its thread's kept snapshot, so new connections would hide a stale
# one): every write, by an admin call of this server, by another server
# process on the same file, or by a `jitevm import` process, is seen by the
# very next eth_call / eth_getStorageAt on each of the kept-alive
# connections; and reads hammered while another process writes two slots
# in one transaction always see both or neither.
# Usage: sh tests/snapshot-e2e.sh [path/to/jitevm]
JITEVM=${1:-build/jitevm}
case $JITEVM in /*) ;; *) JITEVM=$(pwd)/$JITEVM ;; esac
NAME=snapshot-e2e
PASSED=0 FAILED=0
set -e
. "$(dirname "$0")/e2e-lib.sh"
e2e_tmp snapshot-e2e
ADMIN=snapshot-e2e-token-0123456789abcdef012345
prague_genesis "$TMP/genesis.json"
# The JSON-RPC client the Python parts below share (kept-alive connections,
# an error answer ends the script; rpc.token set: admin calls carry it).
cat > "$TMP/rpc.py" << 'PY'
import http.client, json
C = "0x000000000000000000000000000000000000c0de"  # the contract the tests read
token = None
def conn(port): return http.client.HTTPConnection("127.0.0.1", port, timeout=30)
def call(c, method, params, admin=False):
    h = {"Content-Type": "application/json"}
    if admin: h["Authorization"] = "Bearer " + token
    c.request("POST", "/", json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}), h)
    r = json.loads(c.getresponse().read())
    if "error" in r: raise SystemExit("%s: %s" % (method, r["error"]))
    return r["result"]
def word(v): return "0x%064x" % v
PY
DB=$TMP/kept.db
"$JITEVM" init --db "$DB" --chain "$TMP/genesis.json" > /dev/null
# Two servers on one file: A answers reads (and writes), B writes from
# another process. --inline-budget keeps the reads on A's HTTP threads.
"$JITEVM" serve --db "$DB" --listen 127.0.0.1:0 --admin --admin-token $ADMIN --threads 2 --log-level warn > "$TMP/a.log" 2>&1 &
SERVER_PID=$!
wait_for_server "$TMP/a.log"
A_PORT=$SERVED_PORT
"$JITEVM" serve --db "$DB" --listen 127.0.0.1:0 --admin --admin-token $ADMIN --threads 1 --log-level warn > "$TMP/b.log" 2>&1 &
JPID=$!
SERVER_PID_B=$JPID
SERVER_PID_SAVE=$SERVER_PID
SERVER_PID=$JPID
wait_for_server "$TMP/b.log"
SERVER_PID=$SERVER_PID_SAVE
B_PORT=$SERVED_PORT

out=$(python3 - "$A_PORT" "$B_PORT" "$ADMIN" "$JITEVM" "$DB" "$TMP" <<'PY'
import json, subprocess, sys, threading
a_port, b_port, token, jitevm, db, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
sys.path.insert(0, tmp)
import rpc
from rpc import C, conn, call, word
rpc.token = token
# A contract answering slot 1 and slot 2 (32 bytes each) to any call.
CODE = "0x6001546000526002546020526040" + "6000f3"
a_admin, b_admin = conn(a_port), conn(b_port)
call(a_admin, "anvil_setCode", [C, CODE], True)
readers = [conn(a_port) for _ in range(4)]
def pair(c):
    out = call(c, "eth_call", [{"to": C, "data": "0x"}, "latest"])
    return int(out[2:66], 16), int(out[66:130], 16)
bad = 0
checks = 0
for i in range(1, 61):
    writer = (a_admin, b_admin)[i % 2]
    call(writer, "anvil_setStorageAt", [C, word(1), word(i)], True)
    for r in readers:
        got = pair(r)[0]
        checks += 1
        if got != i:
            bad += 1
            print("after write %d by %s: a reader saw %d" % (i, "AB"[i % 2], got))
        s = int(call(r, "eth_getStorageAt", [C, word(1), "latest"]), 16)
        checks += 1
        if s != i:
            bad += 1
            print("after write %d: eth_getStorageAt saw %d" % (i, s))
print("fresh: %d checks, %d stale" % (checks, bad))
# Another process writes both slots in one transaction (jitevm import of a
# dump), again and again, while the readers read: never a mix.
stop = False
mixes = [0]
reads = [0]
def hammer(c):
    while not stop:
        one, two = pair(c)
        reads[0] += 1
        if one != two and not (one == 60 and two == 0):
            mixes[0] += 1
threads = [threading.Thread(target=hammer, args=(conn(a_port),)) for _ in range(3)]
for t in threads: t.start()
for v in range(100, 130):
    dump = {C: {"balance": "0x0", "nonce": "0x0", "code": CODE, "storage": {word(1): word(v), word(2): word(v)}}}
    path = "%s/dump-%d.json" % (tmp, v)
    json.dump(dump, open(path, "w"))
    p = subprocess.run([jitevm, "import", "--db", db, "--quiet", path], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("import: " + p.stdout + p.stderr)
    # Every kept-alive reader sees it at once.
    for r in readers:
        if pair(r) != (v, v):
            bad += 1
            print("after import %d: a reader saw %s" % (v, pair(r)))
stop = True
for t in threads: t.join()
print("whole: %d reads during 30 imports, %d mixes, %d stale" % (reads[0], mixes[0], bad))
PY
) || { echo "$out"; fail "the checking client failed" "" ""; }
echo "$out"
check "kept snapshots: every write seen by the next read" "480 checks, 0 stale" "$out"
check "kept snapshots: imports seen whole and at once" " 0 mixes, 0 stale" "$out"
kill "$SERVER_PID" "$JPID" 2> /dev/null || true
wait "$SERVER_PID" "$JPID" 2> /dev/null || true
SERVER_PID= JPID=

# Live mode: anvil is the upstream; each of its blocks sets slots 1 and 2 of
# a contract to one new value in one transaction; jitevm follows, and
# readers on kept-alive connections never see a mix of two blocks, and see
# the last block once jitevm's head is anvil's.
install_anvil
UPORT=$(free_port 31)
"$ANVIL" --port "$UPORT" --hardfork prague --silent > "$TMP/anvil.log" 2>&1 &
APID=$!
UURL=http://127.0.0.1:$UPORT/
i=0; until curl -s -o /dev/null "$UURL"; do i=$((i + 1)); [ $i -gt 600 ] && { echo "$NAME: anvil did not start"; exit 1; }; sleep 0.05; done
# No calldata: returns slots 1 and 2; a 32-byte word: writes it to both.
PAIR_CODE=0x3660155760015460005260025460205260406000f35b6000358060015560025500
post "$UURL" "$(req anvil_setCode "[\"0x000000000000000000000000000000000000c0de\",\"$PAIR_CODE\"]")" > /dev/null
post "$UURL" "$(req evm_mine '[]')" > /dev/null
"$JITEVM" init --db "$TMP/live.db" --fork-url "$UURL" --chain "$TMP/genesis.json" > /dev/null
"$JITEVM" serve --db "$TMP/live.db" --listen 127.0.0.1:0 --follow --follow-interval 100ms --threads 2 --log-level warn > "$TMP/live.log" 2>&1 &
SERVER_PID=$!
wait_for_server "$TMP/live.log"
out=$(python3 - "$SERVED_PORT" "$UPORT" "$TMP" <<'PY'
import json, sys, threading, time
port, uport = int(sys.argv[1]), int(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from rpc import C, conn, call
SENDER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
def pair(c):
    out = call(c, "eth_call", [{"to": C, "data": "0x"}, "latest"])
    return int(out[2:66], 16), int(out[66:130], 16)
up = conn(uport)
readers = [conn(port) for _ in range(4)]
for r in readers: pair(r)  # the slots are fetched, then held and followed
stop = False
mixes, reads, last_seen = [0], [0], []
def hammer(c):
    while not stop:
        one, two = pair(c)
        reads[0] += 1
        if one != two:
            mixes[0] += 1
            print("a mix: slot 1 = %d, slot 2 = %d" % (one, two))
    # At once after jitevm's head reached anvil's (within a kept
    # snapshot's lifetime): the last block must be seen.
    last_seen.append(pair(c))
threads = [threading.Thread(target=hammer, args=(conn(port),)) for _ in range(3)]
for t in threads: t.start()
LAST = 15
for v in range(1, LAST + 1):
    call(up, "eth_sendTransaction", [{"from": SENDER, "to": C, "data": "0x%064x" % v, "gas": "0x30000"}])
    time.sleep(0.15)
head = int(call(up, "eth_blockNumber", []), 16)
h = conn(port)
deadline = time.time() + 20
def applied_head():
    # The follower's own head (/health), not read through a snapshot.
    h.request("GET", "/health")
    return json.loads(h.getresponse().read())["live"]["head"]
while time.time() < deadline and applied_head() < head: time.sleep(0.002)
stop = True
for t in threads: t.join()
stale = sum(1 for p in last_seen if p != (LAST, LAST))
stale += sum(1 for r in readers if pair(r) != (LAST, LAST))
print("live: %d reads while %d blocks were followed, %d mixes; at the head, %d of %d readers stale" %
      (reads[0], LAST, mixes[0], stale, len(readers) + len(threads)))
PY
) || { echo "$out"; fail "the live checking client failed" "" ""; }
echo "$out"
check "live: followed blocks seen whole and at once" "blocks were followed, 0 mixes; at the head, 0 of 7 readers stale" "$out"
kill "$SERVER_PID" "$APID" 2> /dev/null || true
wait "$SERVER_PID" "$APID" 2> /dev/null || true
SERVER_PID= APID=

# An idle kept-alive connection (a load balancer's pool) must not keep its
# thread's parked snapshot: while another process commits, A's reader sits
# idle on its open connection; within about a second of the last commit the
# whole WAL can be checkpointed from a third connection (a parked snapshot
# would pin every frame after it), and the idle connection's next call sees
# the last commit.
"$JITEVM" serve --db "$DB" --listen 127.0.0.1:0 --threads 1 --log-level warn > "$TMP/idle-a.log" 2>&1 &
SERVER_PID=$!
wait_for_server "$TMP/idle-a.log"
A_PORT=$SERVED_PORT
SERVER_PID_SAVE=$SERVER_PID
"$JITEVM" serve --db "$DB" --listen 127.0.0.1:0 --admin --admin-token $ADMIN --threads 1 --log-level warn > "$TMP/idle-b.log" 2>&1 &
JPID=$!
SERVER_PID=$JPID
wait_for_server "$TMP/idle-b.log"
SERVER_PID=$SERVER_PID_SAVE
B_PORT=$SERVED_PORT
out=$(python3 - "$A_PORT" "$B_PORT" "$ADMIN" "$DB" "$TMP" <<'PY'
import sqlite3, sys, time
a_port, b_port, token, db = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
sys.path.insert(0, sys.argv[5])
import rpc
from rpc import C, conn, call, word
rpc.token = token
def slot1(c): return int(call(c, "eth_call", [{"to": C, "data": "0x"}, "latest"])[2:66], 16)
idle, writer = conn(a_port), conn(b_port)
for _ in range(3): slot1(idle)  # the thread's snapshot is now kept (parked)
LAST = 300
for v in range(200, LAST + 1):  # about a second of commits by another process
    call(writer, "anvil_setStorageAt", [C, word(1), word(v)], True)
    time.sleep(0.003)
ck = sqlite3.connect(db, timeout=5)
t0 = time.time()
busy, frames, done = ck.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
while (busy or frames != done) and time.time() - t0 < 1.0:
    time.sleep(0.02)
    busy, frames, done = ck.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
ck.close()
state = "all" if not busy and frames == done else "pinned"
print("idle: WAL %s checkpointed (%d of %d frames) %.2f s after the last commit" % (state, done, frames, time.time() - t0))
got = slot1(idle)
print("idle: the next call on the idle connection saw %s" % ("the last commit" if got == LAST else "%d, not %d" % (got, LAST)))
PY
) || { echo "$out"; fail "the idle checking client failed" "" ""; }
echo "$out"
check "idle kept-alive connection: the WAL is checkpointed" "idle: WAL all checkpointed" "$out"
check "idle kept-alive connection: the next call sees the last commit" "saw the last commit" "$out"
kill "$SERVER_PID" "$JPID" 2> /dev/null || true
wait "$SERVER_PID" "$JPID" 2> /dev/null || true
SERVER_PID= JPID=
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
