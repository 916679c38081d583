#!/bin/sh
# Installs the Debian 12 packages jitevm builds and tests with, when any is
# missing. Needs root (or sudo) only when something must be installed.
set -e
PACKAGES="build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev check libsecp256k1-dev libgmp-dev libssl-dev curl"
# libcurl: the upstream JSON-RPC client of live-chain mode (serve --fork-url).
PACKAGES="$PACKAGES libcurl4-openssl-dev"
# `install-deps.sh fuzz`: clang and its libFuzzer/sanitizer runtime, for
# `make fuzz` only (GCC has no libFuzzer).
[ "${1:-}" = fuzz ] && PACKAGES="clang libclang-rt-14-dev"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
