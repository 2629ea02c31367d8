#!/usr/bin/env bash
# Load benchmark of `folio serve`, loopback only and bounded in time.
#
# For each document: start a release `folio serve` on 127.0.0.1 (fresh data dir), measure the
# time from spawn to the first 200 from /ready, run CLIENTS concurrent clients POSTing the
# document to /extract for SECONDS, then report requests/s, p50/p99 latency, status counts and
# the server's peak RSS (VmHWM from /proc), and stop it with SIGTERM. Fails on any 5xx.
#
#   bash bench/serve_load.sh [corpus dir]    # 16 clients, 20 s per document
#                                            # (corpus: $FOLIO_CORPUS or ../shared/corpus)
#   CLIENTS=16 SECONDS_PER_RUN=30 bash bench/serve_load.sh
#
# Documents: a 1-page paper page from the shared corpus, a generated 20-page born-digital PDF,
# and the corpus's longest real PDF (18 pages). REQUIRE (default: all) is the --require-models
# set /ready checks; with a warm model cache that is every model's size check.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-16}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
REQUIRE=${REQUIRE:-all}
CORPUS=${1:-${FOLIO_CORPUS:-../shared/corpus}}

cargo build --release -q -p folio
cargo build --release -q -p folio-server --example serve_load
FOLIO=target/release/folio
LOAD=target/release/examples/serve_load

work=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
$LOAD pdf --pages 20 "$work/generated-20-pages.pdf"

docs=(
  "1-page:$CORPUS/text/docs/docling__2305.03393v1-pg9.pdf"
  "20-page:$work/generated-20-pages.pdf"
  "18-page-real:$CORPUS/text/docs/docling__redp5110_sampled.pdf"
)

echo "machine: $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-14s %9s %9s %9s %9s %10s %11s  %s\n' document "req/s" "p50 ms" "p99 ms" requests "peak RSS" "ready ms" statuses
status=0
for entry in "${docs[@]}"; do
  label=${entry%%:*}
  file=${entry#*:}
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  data="$work/data-$label"
  since=$(date +%s%N)
  FOLIO_API_KEY= $FOLIO serve --addr "127.0.0.1:$port" --data-dir "$data" \
    --require-models "$REQUIRE" 2>"$work/serve-$label.log" &
  pid=$!
  ready_ms=$($LOAD ready --url "http://127.0.0.1:$port" --since-ns "$since")
  if ! result=$($LOAD load --url "http://127.0.0.1:$port" --clients "$CLIENTS" \
      --seconds "$SECONDS_PER_RUN" --label "$label" "$file"); then
    status=1
  fi
  hwm_kb=$(awk '/^VmHWM/{print $2}' "/proc/$pid/status")
  kill -TERM "$pid"
  wait "$pid" || status=1
  python3 - "$result" "$hwm_kb" "$ready_ms" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print("%-14s %9.1f %9.0f %9.0f %9d %7.0f MB %11s  %s" % (
    r["label"], r["requests_per_s"], r["p50_ms"], r["p99_ms"], r["requests"],
    int(sys.argv[2]) / 1024, sys.argv[3], json.dumps(r["statuses"])))
PY
done
exit $status
