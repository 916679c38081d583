#!/bin/sh
# The conformance run: every state test under the fixtures folder, on every
# fork present. Skipped, with the reason, when the fixtures are absent (a
# user's clone without ../shared).
jitevm="$1"
fixtures="$2"
if [ ! -d "$fixtures" ]; then
    echo "conformance: skipped: no fixtures at $fixtures (set FIXTURES=/path/to/state_tests to run it)"
    exit 0
fi
exec "$jitevm" statetest --pending tests/pending-precompiles.txt "$fixtures"
