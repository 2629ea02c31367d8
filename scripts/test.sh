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
