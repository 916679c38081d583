#!/bin/sh
# `make test-deploy`: the deployment, end to end, loopback only. The image
# (image.sh: built with podman and run), the Kubernetes manifests and
# compose file checked against their schemas (manifests.sh), then three
# replicas behind nginx and HAProxy under load with faults (replicas.sh).
# A few minutes (the first run also debootstraps the base images, once).
set -e
cd "$(dirname "$0")/../.."
JITEVM="${1:-build/jitevm}"
t0=$(date +%s)
for part in image manifests; do
    echo "== test-deploy: $part"
    sh "tests/deploy/$part.sh"
done
echo "== test-deploy: replicas"
sh tests/deploy/replicas.sh "$JITEVM" nginx haproxy
echo "test-deploy: all passed in $(($(date +%s) - t0)) s"
