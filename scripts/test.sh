#!/usr/bin/env bash
# The test command: builds the workspace, installs the models through Folio's own store (so the
# tests that need them run), then runs every test.
#
# Tests that need what a plain machine lacks are `#[ignore]`d in a module named for the need
# (`needs_root::`, `needs_browser::`, `needs_postgres::`, `needs_s3::`), so `cargo test` alone passes anywhere. This script then
# runs exactly those modules when the need is met (CI, which runs as root after .ci/setup.d, meets
# them all; with FOLIO_CI=1 a missing one is an error instead of a note). Other `#[ignore]`d
# tests are never run here.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/test.d/*.sh; do
  [ -e "$step" ] || continue
  echo "== prepare: $step"
  bash "$step"
done
cargo test --workspace --no-fail-fast

status=0
# On an AVX-512 CPU the tests above ran the AVX-512 kernels; run the vision tests (rten's
# convolutions, the OCR and layout models on real pages) again on the AVX2 ones, which the
# other kind of CPU uses (FOLIO_SIMD, third_party/README.md).
# They run as the test binaries the workspace run built: `cargo test -p folio-vision` would
# resolve that crate's features apart from the workspace's and build its dependencies again
# (minutes of a CI run).
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  echo "== vision tests on the AVX2 kernels (FOLIO_SIMD=avx2)"
  vision_tests=$(cargo test --workspace --no-run --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if (m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]
            and m["manifest_path"].endswith("crates/folio-vision/Cargo.toml")):
        print(m["executable"])')
  [ -n "$vision_tests" ] || { echo "error: no folio-vision test binaries found" >&2; status=1; }
  for test_bin in $vision_tests; do
    echo "-- $(basename "$test_bin")"
    # cargo runs a test binary in its package's folder.
    (cd crates/folio-vision && FOLIO_SIMD=avx2 "$test_bin") || status=1
  done
fi
not_run() {
  if [ "${FOLIO_CI:-}" = 1 ]; then
    echo "error: $1 (CI must run them)" >&2
    status=1
  else
    echo "note: $1"
  fi
}
# --tests: the ignored tests are integration and unit tests, never doc tests.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && command -v mount >/dev/null; then
  echo "== tests that need root"
  cargo test --workspace --tests --no-fail-fast -- --ignored needs_root:: || status=1
else
  not_run "the needs_root:: tests were not run (they need root, setpriv and mount)"
fi
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  echo "== tests that need a browser"
  cargo test --workspace --tests --no-fail-fast -- --ignored needs_browser:: || status=1
else
  not_run "the needs_browser:: tests were not run (they need chromium and chromedriver)"
fi
# The job store's real servers (.ci/setup.d/40-postgres.sh installs them).
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "== tests that need PostgreSQL"
  cargo test --workspace --tests --no-fail-fast -- --ignored needs_postgres:: || status=1
else
  not_run "the needs_postgres:: tests were not run (they need PostgreSQL's initdb and pg_ctl)"
fi
if command -v moto_server >/dev/null; then
  echo "== tests that need an S3 server"
  cargo test --workspace --tests --no-fail-fast -- --ignored needs_s3:: || status=1
else
  not_run "the needs_s3:: tests were not run (they need moto_server)"
fi
exit $status
