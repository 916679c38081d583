# jitevm: built on Debian 12 with the packages deploy/install-deps.sh
# installs on a developer machine, run on a slim Debian 12 with only the
# runtime libraries, as an unprivileged user, its state under a volume.
#
#   podman build --format docker -t jitevm .      (or: docker build -t jitevm .)
#   podman run -p 127.0.0.1:8545:8545 -v jitevm-data:/var/lib/jitevm jitevm
#
# The image carries a snapshot: the dev chain with the README's demo
# contract (deploy/demo-alloc.json), copied into the volume on first start
# (deploy/entrypoint.sh). With a build secret `program_key` (64 hex digits:
# --secret id=program_key,src=FILE) its contracts are also compiled ahead of
# time; serve it with the same key (JITEVM_PROGRAM_KEY, from a secret).
FROM debian:12 AS build
WORKDIR /src
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN sh deploy/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make -j"$(nproc)" build/jitevm \
    && strip build/jitevm \
    && build/jitevm init --db /snapshot.db --chain dev \
    && build/jitevm import --db /snapshot.db --quiet deploy/demo-alloc.json
RUN --mount=type=secret,id=program_key \
    if [ -s /run/secrets/program_key ]; then \
        JITEVM_PROGRAM_KEY="$(cat /run/secrets/program_key)" build/jitevm compile --db /snapshot.db --all; \
    else echo "no program_key secret: programs are compiled by each replica on first use"; fi \
    && rm -f /snapshot.db.program-key /snapshot.db.lock

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libmicrohttpd12 libjansson4 libsqlite3-0 libsodium23 libsecp256k1-1 libgmp10 libssl3 curl \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/jitevm --create-home jitevm
COPY --from=build /src/build/jitevm /usr/local/bin/jitevm
COPY --from=build /snapshot.db /usr/share/jitevm/snapshot.db
COPY deploy/entrypoint.sh /usr/local/bin/jitevm-entrypoint
USER 10001:10001
WORKDIR /var/lib/jitevm
VOLUME /var/lib/jitevm
# Containers listen on all interfaces (the load balancer reaches them over
# the container network); the binary itself defaults to loopback.
ENV JITEVM_LISTEN=0.0.0.0:8545 JITEVM_DB=/var/lib/jitevm/state.db JITEVM_SNAPSHOT=/usr/share/jitevm/snapshot.db
EXPOSE 8545
HEALTHCHECK --interval=10s --timeout=2s --start-period=10s CMD curl -fsS http://127.0.0.1:8545/health || exit 1
# SIGTERM drains: no new connections, requests in flight finish (up to
# --shutdown-timeout), then a clean exit.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/jitevm-entrypoint"]
