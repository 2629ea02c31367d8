# syntax=docker/dockerfile:1
#
# Folio as a RunPod serverless worker: CPU image (pure-Rust inference, the rten OCR backend).
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
# `folio models install` fetches the pinned wheels with `python3 -m pip`, so it runs in a Python
# image, not in the final one; keep it on DEBIAN_RELEASE (the build stage's glibc).
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY . .
# Cargo.lock pins every dependency; --locked refuses to build with a stale one.
RUN cargo build --release --locked -p folio \
    && install -D -m 0755 target/release/folio /out/folio

FROM ${PYTHON_IMAGE} AS models
ARG BAKE_MODELS=1
ENV XDG_CACHE_HOME=/var/cache
COPY --from=build /out/folio /usr/local/bin/folio
# Installing verifies each model's sha256; a failed install fails the build rather than shipping
# an image whose workers would all report themselves unhealthy.
RUN mkdir -p /var/cache/folio \
    && if [ "$BAKE_MODELS" = 1 ]; then folio models install; fi

FROM debian:${DEBIAN_RELEASE}-slim
ARG BAKE_MODELS=1
# The model store's root is $XDG_CACHE_HOME/folio (/var/cache/folio). XDG_CACHE_HOME, not
# FOLIO_CACHE_DIR: `folio models` takes FOLIO_CACHE_DIR as an explicit --cache-dir, which would
# win over FOLIO_VOLUME, so `folio models install` on a worker with a volume would fill the image's
# directory instead of the volume the worker reads.
# The worker takes no job unless the OCR models (4) load with the rten backend.
ENV XDG_CACHE_HOME=/var/cache \
    FOLIO_OCR_BACKEND=rten \
    FOLIO_WORKER_REQUIRE_MODELS=ocr \
    RUST_LOG=info
COPY --from=build /out/folio /usr/local/bin/folio
COPY --from=models /var/cache/folio /var/cache/folio
# Verified again where they are served, by the binary that serves them.
RUN if [ "$BAKE_MODELS" = 1 ]; then folio models verify; fi
# RunPod stops workers with SIGTERM: folio finishes the job in progress and exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/folio"]
CMD ["--log-json", "worker"]
