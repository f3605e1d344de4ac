# syntax=docker/dockerfile:1
# Multi-stage build: compile in the Rust image, run as a non-root user. BuildKit cache mounts
# keep the cargo registry and target/ between builds, so an edit to src/ recompiles fluxlab
# alone, not its ~270 dependencies. The shipped binary is stripped.
FROM rust:1.95-bookworm AS build
WORKDIR /src
# The image has no .git: pass the commit for results' provenance, e.g.
# `docker build --build-arg FLUXLAB_GIT_COMMIT=$(git rev-parse HEAD) .` (else "unknown").
ARG FLUXLAB_GIT_COMMIT=unknown
ENV FLUXLAB_GIT_COMMIT=${FLUXLAB_GIT_COMMIT}
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY assets ./assets
COPY data ./data
COPY benches ./benches
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin fluxlab \
    && objcopy --strip-all target/release/fluxlab /usr/local/bin/fluxlab

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data fluxlab \
    && mkdir -p /data && chown fluxlab /data
COPY --from=build /usr/local/bin/fluxlab /usr/local/bin/fluxlab
USER fluxlab
WORKDIR /data
VOLUME ["/data"]
ENV FLUXLAB_BIND=0.0.0.0:8080 \
    FLUXLAB_DATABASE=sqlite:///data/fluxlab.db \
    RUST_LOG=info
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["fluxlab"]
CMD ["serve"]
