# The server image: build with the workspace's pinned toolchain, run on a slim Debian.
# Used by docker-compose.yml; `docker build -t reset-server .` works on its own.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p reset-server

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data reset \
 && mkdir -p /data && chown reset /data
COPY --from=build /src/target/release/reset-server /usr/local/bin/reset-server
USER reset
WORKDIR /data
ENV RESET_BIND=0.0.0.0:8080 \
    RESET_DATA_DIR=/data
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["reset-server"]
CMD ["serve"]
