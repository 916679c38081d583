#!/bin/sh
# Fails when one of our static libraries defines a global symbol that a
# linked system library also defines: with static archives the linker
# silently takes ours, and callers of the library get our function (this
# once made jansson's json_string call a JSON reader of ours).
# Usage: check-symbols.sh ARCHIVE... -- LIB...
archives=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do archives="$archives $1"; shift; done
[ "$1" = "--" ] && shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for lib in "$@"; do
    for d in /usr/lib/x86_64-linux-gnu /usr/lib /lib/x86_64-linux-gnu; do
        if [ -f "$d/lib$lib.so" ]; then nm -D --defined-only "$d/lib$lib.so"; break; fi
        if [ -f "$d/lib$lib.a" ]; then nm --defined-only "$d/lib$lib.a"; break; fi
    done 2>/dev/null | awk 'NF == 3 {print $3}'
done | sed 's/@.*//' | sort -u > "$tmp/system"
nm --defined-only $archives 2>/dev/null | awk 'NF == 3 && $2 ~ /[TDBR]/ {print $3}' | sort -u > "$tmp/ours"
clashes=$(comm -12 "$tmp/system" "$tmp/ours")
if [ -n "$clashes" ]; then
    echo "symbol clash between our libraries and system libraries:"
    echo "$clashes"
    exit 1
fi
echo "check-symbols: no clashes between our libraries and: $*"
