#!/usr/bin/env bash
# The model store's fault tests (crates/folio/tests/store_faults.rs) use setpriv (drop to uid
# 65534), mount/umount (read-only bind mounts, a 1 MiB tmpfs). They are `#[ignore]`d in
# `mod needs_root`; scripts/test.sh runs them as root when these tools are here.
set -euo pipefail
if ! command -v setpriv >/dev/null || ! command -v mount >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq util-linux mount >/dev/null
fi
