# syntax=docker/dockerfile:1
#
# Folio as a RunPod serverless worker: CPU image (pure-Rust inference).
#
#   docker build -t YOU/folio-worker:cpu .
#   docker push YOU/folio-worker:cpu
#
# Models are installed into the image at build time (BAKE_MODELS=1, the default), so a cold
# worker needs no network and no volume. For a shared network volume instead, build with
# --build-arg BAKE_MODELS=0 and set FOLIO_VOLUME=/runpod-volume on the endpoint.
# docs/runpod.md has the endpoint settings and how this file was checked.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY . .
# Cargo.lock pins every dependency; --locked refuses to build with a stale one.
RUN cargo build --release --locked -p folio \
    && install -D -m 0755 target/release/folio /out/folio

FROM debian:${DEBIAN_RELEASE}-slim
ARG BAKE_MODELS=1
# The model store's root inside the image. With FOLIO_VOLUME set, the store keeps its files on the
# volume and links this path to it.
ENV FOLIO_CACHE_DIR=/opt/folio/models
COPY --from=build /out/folio /usr/local/bin/folio
# Installing verifies each model's sha256; a failed install fails the build rather than shipping
# an image whose workers would all report themselves unhealthy.
RUN mkdir -p "$FOLIO_CACHE_DIR" \
    && if [ "$BAKE_MODELS" = 1 ]; then folio models install && folio models verify; fi
ENV RUST_LOG=info
# RunPod stops workers with SIGTERM: folio finishes the job in progress and exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/folio"]
CMD ["--log-json", "worker"]
