# jitevm: build on Debian 12 with the same packages as a developer machine,
# then run on a slim Debian 12 with only the runtime libraries.
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev \
        check libsecp256k1-dev libgmp-dev libssl-dev ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" && make unit

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libmicrohttpd12 libjansson4 libsqlite3-0 libsodium23 libsecp256k1-1 libgmp10 libssl3 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/jitevm --create-home jitevm
COPY --from=build /src/build/jitevm /usr/local/bin/jitevm
USER jitevm
WORKDIR /var/lib/jitevm
# Containers listen on all interfaces (the load balancer reaches them over
# the container network); the binary itself defaults to loopback.
ENV JITEVM_LISTEN=0.0.0.0:8545 JITEVM_DB=/var/lib/jitevm/state.db
EXPOSE 8545
HEALTHCHECK --interval=10s --timeout=2s CMD curl -fsS http://127.0.0.1:8545/health || exit 1
CMD ["sh", "-c", "[ -f \"$JITEVM_DB\" ] || jitevm init --db \"$JITEVM_DB\" --chain dev; exec jitevm serve --db \"$JITEVM_DB\""]
