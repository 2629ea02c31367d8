#!/usr/bin/env bash
# The test command: builds the workspace, installs the models through Folio's own store (so the
# tests that need them run), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/test.d/*.sh; do
  [ -e "$step" ] || continue
  echo "== prepare: $step"
  bash "$step"
done
cargo test --workspace --no-fail-fast
# Tests against real servers that .ci/setup.d installs (ignored in a plain `cargo test`):
# the job-store suite on PostgreSQL, S3 inputs/outputs on moto, three replicas on one queue.
cargo test -p folio-server --lib jobs::store::suite -- --ignored
cargo test -p folio-server --test http_objects -- --ignored
cargo test -p folio --test scale_out -- --ignored
