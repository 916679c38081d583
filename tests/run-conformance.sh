#!/bin/sh
# The conformance run: every state test under the fixtures folder, on every
# fork present, once on the interpreter and once with every frame compiled. Skipped, with the reason, when the fixtures are absent (a
# user's clone without ../shared).
jitevm="$1"
fixtures="$2"
if [ ! -d "$fixtures" ]; then
    echo "conformance: skipped: no fixtures at $fixtures (set FIXTURES=/path/to/state_tests to run it)"
    exit 0
fi
for engine in interp jit; do
    echo "conformance, engine $engine:"
    "$jitevm" statetest --engine "$engine" --pending tests/pending-precompiles.txt "$fixtures" || exit 1
done
