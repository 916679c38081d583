#!/bin/sh
# `make fixtures`: downloads the official Ethereum state tests the
# conformance suite runs (ethereum/execution-spec-tests, the release the
# project's fixtures come from) into build/fixtures/state_tests, for a clone
# without ../shared. Then: make test FIXTURES=build/fixtures/state_tests
# (or make conformance ...). Needs the internet; no test runs it.
# EEST_VERSION / EEST_ASSET choose another release or asset.
set -e
cd "$(dirname "$0")/.."
VERSION="${EEST_VERSION:-v5.4.0}"
ASSET="${EEST_ASSET:-fixtures_develop.tar.gz}"
URL="https://github.com/ethereum/execution-spec-tests/releases/download/$VERSION/$ASSET"
OUT=build/fixtures
command -v curl >/dev/null || { echo "fixtures: curl is needed (make deps installs it)" >&2; exit 1; }
mkdir -p "$OUT"
if [ ! -s "$OUT/$ASSET" ]; then
    echo "fixtures: downloading $URL"
    curl -fL --retry 3 -o "$OUT/$ASSET.part" "$URL"
    mv "$OUT/$ASSET.part" "$OUT/$ASSET"
fi
echo "fixtures: $ASSET sha256 $(sha256sum "$OUT/$ASSET" | cut -d' ' -f1)"
rm -rf "$OUT/state_tests" "$OUT/extract"
mkdir -p "$OUT/extract"
tar -xzf "$OUT/$ASSET" -C "$OUT/extract" --wildcards '*state_tests/*'
src=$(find "$OUT/extract" -type d -name state_tests | head -1)
[ -n "$src" ] || { echo "fixtures: no state_tests folder in $ASSET" >&2; exit 1; }
mv "$src" "$OUT/state_tests"
rm -rf "$OUT/extract"
echo "fixtures: $(find "$OUT/state_tests" -name '*.json' | wc -l) files in $OUT/state_tests"
echo "run: make test FIXTURES=$OUT/state_tests"
