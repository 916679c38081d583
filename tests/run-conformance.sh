#!/bin/sh
# The conformance run: first the runner's self-test (conformance-selftest.sh:
# it must fail fixtures with a wrong root, logs hash or exception), then every
# state test under the fixtures folder, on every fork present, once with
# --engine interp and once with --engine jit (every frame compiled before it
# runs; code the compiler refuses runs interpreted, and the runner prints
# both counts).
# Without the fixtures (a user's clone without ../shared) the run is skipped
# with the reason, and fails where they are required: CI=true or
# REQUIRE_FIXTURES=1 in the environment.
jitevm="$1"
fixtures="$2"
sh tests/conformance-selftest.sh "$jitevm" || exit 1
if [ ! -d "$fixtures" ]; then
    if [ "$CI" = true ] || [ "$REQUIRE_FIXTURES" = 1 ]; then
        echo "conformance: FAILED: no fixtures at $fixtures, and this run requires them (CI=true or REQUIRE_FIXTURES=1)"
        exit 1
    fi
    echo "conformance: SKIPPED: no fixtures at $fixtures (set FIXTURES=/path/to/state_tests to run it)"
    exit 0
fi
for engine in interp jit; do
    echo "conformance, engine $engine:"
    "$jitevm" statetest --engine "$engine" --pending tests/pending-precompiles.txt "$fixtures" || exit 1
done
