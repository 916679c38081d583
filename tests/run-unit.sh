#!/bin/sh
# Runs every unit-test binary given; prints each one's output and a total:
# binaries failed, tests skipped (testlib's "SKIPPED:" lines; a skip is
# never a pass). Exits non-zero when any binary fails.
log=$(mktemp "${TMPDIR:-/tmp}/jitevm-unit.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
failed=0
skipped=0
for t in "$@"; do
    echo "== $t"
    "$t" > "$log" 2>&1
    rc=$?
    cat "$log"
    skipped=$((skipped + $(grep -c '^SKIPPED: ' "$log")))
    if [ $rc -ne 0 ]; then
        echo "FAILED: $t"
        failed=$((failed + 1))
    fi
done
echo "unit: $# binaries, $failed failed; $skipped tests skipped"
[ $failed -eq 0 ]
