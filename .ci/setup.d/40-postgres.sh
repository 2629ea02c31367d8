#!/usr/bin/env bash
# The real servers of the scale-out tests (issue 15): PostgreSQL (Debian's package; the tests
# start their own server with initdb/pg_ctl in a temp dir, as the `postgres` user, on a free
# port) and moto's S3-compatible server (PyPI's `moto[server]`). Idempotent: installs only what
# is missing; starts nothing.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  # The package starts a cluster of its own; the tests do not use it.
  if command -v pg_ctlcluster >/dev/null; then
    for conf in /etc/postgresql/*/main; do
      [ -d "$conf" ] || continue
      version=$(basename "$(dirname "$conf")")
      pg_ctlcluster "$version" main stop >/dev/null 2>&1 || true
    done
  fi
fi
if ! command -v moto_server >/dev/null; then
  python3 -m pip install -q 'moto[server]==5.2.1'
fi
