#!/bin/sh
# Runs every unit-test binary given; prints each one's summary and a total.
# Exits non-zero when any binary fails.
status=0
for t in "$@"; do
    echo "== $t"
    if ! "$t"; then
        echo "FAILED: $t"
        status=1
    fi
done
exit $status
