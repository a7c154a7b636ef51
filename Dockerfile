# The server image: build with the workspace's pinned toolchain, run on a slim Debian.
# Used by docker-compose.yml; `docker build -t reset-server .` works on its own.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p reset-server

# The runtime: Debian slim with CA certificates and nothing else (no curl: the health check is
# the binary's own `healthcheck`; a shell stays for the compose file's one-off `seed`). The
# server runs as a numeric non-root user, so Kubernetes' runAsNonRoot can verify it.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin reset \
 && mkdir -p /data && chown 10001:10001 /data
COPY --from=build /src/target/release/reset-server /usr/local/bin/reset-server
USER 10001:10001
WORKDIR /data
ENV RESET_BIND=0.0.0.0:8080 \
    RESET_DATA_DIR=/data
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD ["reset-server", "healthcheck"]
ENTRYPOINT ["reset-server"]
CMD ["serve"]
