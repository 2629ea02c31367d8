#!/usr/bin/env bash
# Headless Chromium and its WebDriver, for the browser test of the page `folio serve` shows at `/`
# (crates/folio-server/tests/page_browser.rs). Idempotent: installs only what is missing.
set -euo pipefail
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
