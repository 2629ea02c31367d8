#!/usr/bin/env bash
# Job-queue benchmark of `folio serve` (issue 15), loopback only.
#
# Starts a PostgreSQL server of its own (initdb/pg_ctl in a temp dir; as root it runs as the
# `postgres` user), then for each set-up -- SQLite (1 replica), Postgres with 1 replica, Postgres
# with 3 replicas -- starts release `folio serve` replicas and reports:
#   - jobs/s: JOBS 1-page jobs submitted round-robin by CLIENTS clients, first submit to last
#     `succeeded`;
#   - latency: LATENCY_RUNS jobs one at a time on an idle queue, submit to `succeeded` (p50/p90),
#     so the Postgres rows minus the SQLite row is the latency the shared queue adds.
#
#   bash bench/jobs.sh                         # 200 jobs, 8 clients, 30 latency runs
#   JOBS=500 CLIENTS=16 bash bench/jobs.sh
#   FOLIO=target/debug/folio bash bench/jobs.sh   # skip the release build (numbers not comparable)
#
# Each replica gets --max-concurrent 2 --job-workers 2: on a machine with few cores the three
# replicas share them, so 3 replicas measure the queue's overhead and fairness, not more CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-200}
CLIENTS=${CLIENTS:-8}
LATENCY_RUNS=${LATENCY_RUNS:-30}
PDF=${PDF:-tests/fixtures/pdf/two-columns.pdf}
if [ -z "${FOLIO:-}" ]; then
  cargo build --release -q -p folio
  FOLIO=target/release/folio
fi

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "PostgreSQL is not installed (.ci/setup.d/40-postgres.sh)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  as_pg "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$pgbin/initdb" -D "$work/pg" -U folio --auth=trust --no-sync >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null

# start_replica DATA_DIR [--jobs-db URL]: starts a replica and sets replica_url to its base URL.
# Not called in $(...): the subshell would keep the replica's pid to itself, and the replica's
# inherited stdout would hold the substitution open until it exits.
start_replica() {
  local data=$1; shift
  local log="$data.log"
  mkdir -p "$data"
  "$FOLIO" serve --addr 127.0.0.1:0 --data-dir "$data" --max-concurrent 2 --job-workers 2 \
    --max-queued-jobs 100000 "$@" >/dev/null 2>"$log" &
  pids+=($!)
  for _ in $(seq 1 200); do
    replica_url=$(sed -n 's/^folio serve: listening on //p' "$log" | head -1)
    if [ -n "$replica_url" ] && curl -fs "$replica_url/ready" >/dev/null 2>&1; then return; fi
    sleep 0.1
  done
  echo "replica did not start: $(cat "$log")" >&2
  exit 1
}

stop_replicas() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "document: $PDF; $JOBS jobs from $CLIENTS clients; $LATENCY_RUNS latency runs"
printf '%-22s %8s %12s %12s\n' "set-up" "jobs/s" "p50 ms" "p90 ms"
n=0
for setup in sqlite pg1 pg3; do
  n=$((n + 1))
  case $setup in
    sqlite) start_replica "$work/s$n"; urls=$replica_url; name="SQLite, 1 replica" ;;
    pg1|pg3)
      db="bench$n"
      as_pg "$pgbin/psql" -h 127.0.0.1 -p "$port" -U folio -d postgres -qc "CREATE DATABASE $db"
      count=${setup#pg}
      urls=""
      for r in $(seq 1 "$count"); do
        start_replica "$work/p$n-$r" --jobs-db "postgres://folio@127.0.0.1:$port/$db"
        urls="$urls $replica_url"
      done
      name="Postgres, $count replica(s)" ;;
  esac
  python3 bench/jobs_load.py --pdf "$PDF" --jobs "$JOBS" --clients "$CLIENTS" \
    --latency-runs "$LATENCY_RUNS" --name "$name" $urls
  stop_replicas
done
