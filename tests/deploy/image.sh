#!/bin/sh
# The container image, built and run as a user would, with Debian's podman
# (no Docker daemon here): the base images made locally (base-images.sh),
# `podman build --isolation=chroot --format docker` (crun refuses this
# host's hybrid cgroups; the OCI format would drop HEALTHCHECK), run with
# runc and ulimits lowered (raising them is not permitted in this sandbox).
# Checks: /health, eth_chainId, the README's demo eth_call, the programs
# compiled into the image at build time and loaded with the key given as a
# secret, the non-root user, the healthcheck, a clean exit on SIGTERM, the
# image size (printed).
set -e
cd "$(dirname "$0")/../.."
. tests/deploy/lib.sh
need_tools podman:podman buildah:buildah runc:runc debootstrap:debootstrap
sh tests/deploy/base-images.sh

fail() { echo "test-deploy image: FAILED: $*" >&2; exit 1; }
passed=0
ok() { passed=$((passed + 1)); echo "  ok: $*"; }

key_file="$DEPLOY_DIR/program-key.hex"
[ -s "$key_file" ] || { od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$key_file"; chmod 600 "$key_file"; }
echo "building the image (podman build --isolation=chroot --format docker)"
t0=$(date +%s)
pm build --isolation=chroot --format docker --secret id=program_key,src="$key_file" \
    -t localhost/jitevm:test . >"$DEPLOY_DIR/build.log" 2>&1 || { tail -40 "$DEPLOY_DIR/build.log"; fail "podman build"; }
echo "  built in $(($(date +%s) - t0)) s"
# The dev snapshot holds five codes: the demo contract and the EIP-4788/2935/7002/7251 system contracts.
# Asked of the image itself (its build log has no compile output when the
# step came from podman's cache, as on a second run with the same tree).
stored=$(pm run --rm --runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --user 0 \
    --entrypoint /usr/local/bin/jitevm -e JITEVM_PROGRAM_KEY="$(cat "$key_file")" localhost/jitevm:test \
    compile --db /usr/share/jitevm/snapshot.db --all 2>/dev/null | grep '^compiled and stored')
echo "$stored" | grep -q "^compiled and stored 0, already stored 5," ||
    fail "the image's snapshot does not hold the five programs compiled at build time: ${stored:-no answer}"
ok "image built; jitevm compile --all ran in the build with the program key secret"

size=$(pm image inspect localhost/jitevm:test --format '{{.Size}}')
echo "  image size: $size bytes ($((size / 1048576)) MiB)"
health=$(pm image inspect localhost/jitevm:test --format '{{json .Config.Healthcheck}}')
echo "$health" | grep -q '/health' || fail "no HEALTHCHECK in the image (got $health)"
ok "HEALTHCHECK kept (docker format)"
user=$(pm image inspect localhost/jitevm:test --format '{{.Config.User}}')
[ "$user" = "10001:10001" ] || fail "image user is '$user'"

port=$(free_port)
name="jitevm-test-$$"
cleanup() { pm rm -f -t 2 "$name" "$name-cpus" >/dev/null 2>&1 || true; pm volume rm -f "$name-data" >/dev/null 2>&1 || true; }
trap cleanup EXIT
pm run -d --name "$name" --runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
    -p "127.0.0.1:$port:8545" -v "$name-data:/var/lib/jitevm" \
    -e JITEVM_PROGRAM_KEY="$(cat "$key_file")" -e JITEVM_LOG_LEVEL=info \
    localhost/jitevm:test >/dev/null || fail "podman run"
URL="http://127.0.0.1:$port/"
wait_url "${URL}health" 30 || { pm logs "$name" | tail -20; fail "no /health within 30 s"; }
h=$(curl -sS "${URL}health")
echo "$h" | grep -q '"status":"ok"' || fail "/health: $h"
ok "/health: $h"
r=$(rpc "$URL" '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}')
[ "$r" = '{"jsonrpc":"2.0","id":1,"result":"0x539"}' ] || fail "eth_chainId: $r"
ok "eth_chainId 0x539"
r=$(rpc "$URL" '{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x00000000000000000000000000000000000d3e30","data":"0x"},"latest"]}')
[ "$r" = '{"jsonrpc":"2.0","id":1,"result":"0x000000000000000000000000000000000000000000000000000000000000002a"}' ] ||
    fail "the README's demo eth_call: $r"
ok "the README's demo eth_call answers 42"
# The snapshot's program, compiled at build time, loaded rather than compiled.
for i in 1 2 3 4 5 6 7 8; do rpc "$URL" '{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x00000000000000000000000000000000000d3e30","data":"0x"},"latest"]}' >/dev/null; done
sleep 1
hits=$(curl -sS "${URL}metrics" | awk '/^jitevm_compile_cache_hits_total/ {print $2}')
[ "${hits:-0}" -ge 1 ] || fail "the programs compiled into the image were not loaded (hits: ${hits:-none})"
ok "compiled program loaded from the image's snapshot with the secret key ($hits)"
uid=$(pm exec "$name" id -u)
[ "$uid" = 10001 ] || fail "the server runs as uid $uid"
pid1=$(pm exec "$name" sh -c 'cat /proc/1/status | grep ^Uid' | awk '{print $2}')
[ "$pid1" = 10001 ] || fail "PID 1 runs as uid $pid1"
ok "runs as uid 10001 (not root)"
pm healthcheck run "$name" >/dev/null 2>&1 && ok "podman healthcheck run: healthy" ||
    echo "  SKIPPED (not counted): podman healthcheck run needs systemd timers here: $(pm healthcheck run "$name" 2>&1 | head -1)"
pm stop -t 20 "$name" >/dev/null
code=$(pm inspect "$name" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || { pm logs "$name" | tail; fail "exit code $code after SIGTERM"; }
pm logs "$name" 2>&1 | grep -q "stopped cleanly" || fail "no 'stopped cleanly' in the log"
ok "SIGTERM: drained and exited 0 ('stopped cleanly')"
# A CPU limit (--cpus, a Kubernetes limit: the cgroup's quota) sizes the
# thread pools, not the host's CPU count.
pm run -d --name "$name-cpus" --runtime runc --cpus 1 --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
    -v "$name-data:/var/lib/jitevm" -e JITEVM_PROGRAM_KEY="$(cat "$key_file")" \
    localhost/jitevm:test >/dev/null || fail "podman run --cpus 1"
i=0
until pm logs "$name-cpus" 2>&1 | grep -q 'config:'; do
    i=$((i + 1)); [ $i -gt 100 ] && { pm logs "$name-cpus" | tail; pm rm -f -t 2 "$name-cpus" >/dev/null 2>&1; fail "no config line within 10 s under --cpus 1"; }
    sleep 0.1
done
config=$(pm logs "$name-cpus" 2>&1 | grep 'config:')
pm rm -f -t 5 "$name-cpus" >/dev/null 2>&1
echo "$config" | grep -q ' threads=4 workers=1 ' || fail "under --cpus 1 on $(nproc) CPUs: $config"
ok "--cpus 1: 4 HTTP threads and 1 worker ($(nproc) CPUs on the host)"
echo "test-deploy image: $passed passed, 0 failed; image size $((size / 1048576)) MiB"
