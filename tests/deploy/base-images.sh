#!/bin/sh
# The two base images the Dockerfile names, made locally: no container
# registry is reachable here, Debian's mirror is. debootstrap (minbase) once
# into build/deploy/, the root filesystems kept as tarballs, so a rerun only
# imports them (or finds them imported). debian:12-slim is the same system
# with documentation, manuals and locales removed and dpkg told to leave them
# out of later installs, as the published slim image does.
set -e
cd "$(dirname "$0")/../.."
. tests/deploy/lib.sh
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
need_tools debootstrap:debootstrap podman:podman
full="$DEPLOY_DIR/debian-12.tar" slim="$DEPLOY_DIR/debian-12-slim.tar"
if [ ! -s "$full" ] || [ ! -s "$slim" ]; then
    rootfs="$DEPLOY_DIR/rootfs"
    rm -rf "$rootfs"
    echo "debootstrap bookworm (minbase) from $MIRROR: a few minutes, once"
    debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$DEPLOY_DIR/debootstrap.log" 2>&1 ||
        { tail -20 "$DEPLOY_DIR/debootstrap.log"; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner -cf "$full.tmp" . && mv "$full.tmp" "$full"
    rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
    tar -C "$rootfs" --numeric-owner -cf "$slim.tmp" . && mv "$slim.tmp" "$slim"
    rm -rf "$rootfs"
fi
# Imported under the names `FROM debian:12` resolves to, so no pull is tried.
for pair in "12:$full" "12-slim:$slim"; do
    tag="${pair%%:*}" tarball="${pair#*:}"
    pm image exists "docker.io/library/debian:$tag" ||
        pm import --change 'CMD ["bash"]' "$tarball" "docker.io/library/debian:$tag" >/dev/null
done
echo "base images: debian:12 and debian:12-slim ($(du -h "$full" | cut -f1), $(du -h "$slim" | cut -f1) as tarballs)"
