#!/usr/bin/env bash
# System packages the tests use: poppler-utils (reference renderings, pdftotext comparisons).
set -euo pipefail
if ! command -v pdftotext >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
fi
