#!/usr/bin/env bash
# The model store's fault tests (crates/folio/tests/store_faults.rs) use setpriv (drop to uid
# 65534), mount/umount (read-only bind mounts, a 1 MiB tmpfs). Without them, or without root,
# those tests print SKIPPED and say why instead of failing.
set -euo pipefail
if ! command -v setpriv >/dev/null || ! command -v mount >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq util-linux mount >/dev/null
fi
