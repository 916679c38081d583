#!/bin/sh
# The container's start: the replica's own database in its volume, made on
# first start from the image's snapshot ($JITEVM_SNAPSHOT, copied under a
# temporary name and linked into place, so no replica finds half a copy) or, with
# no snapshot, by `jitevm init --chain $JITEVM_CHAIN` (safe when replicas
# sharing a volume start together: one creates it, the others find it).
# Then `jitevm serve`, as PID 1's child replaced by exec so that SIGTERM
# reaches it. Arguments are passed to serve.
set -e
db="${JITEVM_DB:-/var/lib/jitevm/state.db}"
if [ ! -e "$db" ]; then
    if [ -n "$JITEVM_SNAPSHOT" ] && [ -f "$JITEVM_SNAPSHOT" ]; then
        cp "$JITEVM_SNAPSHOT" "$db.copy.$$"
        ln "$db.copy.$$" "$db" 2>/dev/null || true # link never replaces a copy in use
        rm -f "$db.copy.$$"
        echo "jitevm-entrypoint: $db from the snapshot $JITEVM_SNAPSHOT"
    else
        jitevm init --db "$db" --chain "${JITEVM_CHAIN:-dev}" || [ -e "$db" ]
    fi
fi
exec jitevm serve --db "$db" "$@"
