#!/usr/bin/env bash
# System packages the tests use: poppler-utils (reference renderings, pdftotext comparisons);
# patch (scripts/test.d/10-vendored.sh re-applies third_party/'s patches to check them).
set -euo pipefail
if ! command -v pdftotext >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
fi
if ! command -v patch >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patch >/dev/null
fi
