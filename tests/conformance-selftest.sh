#!/bin/sh
# The conformance runner's self-test: a runner that passed everything would
# pass the conformance run too. tests/data/conformance/ holds two real state
# tests (*-good.json: one that emits a log, one whose transaction is
# rejected) and copies of them each with one thing wrong: the post-state
# root, the logs hash, an exception where the transaction is valid, none
# where it is rejected, another one than the rejection's. On both engines,
# each good file must pass (exit 0, "1 passed, 0 failed") and each wrong one
# fail (non-zero exit, "0 passed, 1 failed"); with --engine jit, the frames
# of the logs-* files (whose code is small) must all have run compiled.
jitevm="$1"
data=tests/data/conformance
status=0
checked=0
for engine in interp jit; do
    for f in "$data"/*.json; do
        out=$("$jitevm" statetest --engine "$engine" "$f" 2>&1)
        rc=$?
        summary=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, ' | tail -n 1)
        case "$f" in
        *-good.json) want="1 passed, 0 failed, 0 skipped"; ok=$([ $rc -eq 0 ] && echo y) ;;
        *) want="0 passed, 1 failed, 0 skipped"; ok=$([ $rc -ne 0 ] && echo y) ;;
        esac
        if [ "$ok" != y ] || [ "$summary" != "$want" ]; then
            echo "conformance self-test: FAILED: $f (engine $engine): exit $rc, \"$summary\", want \"$want\""
            status=1
        fi
        case "$engine $f" in
        jit*/logs-*)
            if ! printf '%s\n' "$out" | grep -Eq '; [1-9][0-9]* frames compiled, 0 interpreted'; then
                echo "conformance self-test: FAILED: $f (engine jit): not every frame ran compiled: $(printf '%s\n' "$out" | grep 'frames compiled')"
                status=1
            fi
            ;;
        esac
        checked=$((checked + 1))
    done
done
[ $status -eq 0 ] && echo "conformance self-test: $checked runs as expected (good fixtures pass, each wrong one fails)"
exit $status
