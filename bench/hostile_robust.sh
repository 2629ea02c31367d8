#!/usr/bin/env bash
# The robust corpus (damaged, fuzzed and odd PDFs) through `POST /extract` of a real
# `folio serve`: every answer must be a 200 or a 4xx with a JSON error body, and the server's
# resident memory after the run must be within twice what it was before.
#
#   bash bench/hostile_robust.sh [CORPUS_DIR]     # default ../shared/corpus/robust/docs
#   FOLIO=target/release/folio ISOLATE=off bash bench/hostile_robust.sh
#
# Prints one line per document (status, code, ms) and a summary; exits 1 on any other answer
# or on memory growth past 2x. The server's memory is the parent's (VmRSS); with process
# isolation the children are reported separately.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${1:-../shared/corpus/robust/docs}
FOLIO=${FOLIO:-target/debug/folio}
ISOLATE=${ISOLATE:-on}
[ -x "$FOLIO" ] || cargo build -q -p folio

work=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
"$FOLIO" serve --addr 127.0.0.1:0 --data-dir "$work/data" --isolate "$ISOLATE" \
  --page-timeout 20 --timeout 60s 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do
  addr=$(sed -n 's/^folio serve: listening on //p' "$work/serve.log" | head -1)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "server did not start"; cat "$work/serve.log"; exit 1; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
children_rss() {
  local total=0
  for c in $(pgrep -P "$pid" || true); do total=$((total + $(rss "$c"))); done
  echo "$total"
}
# One small request first, so that "before" is a warmed-up server.
curl -s -o /dev/null "$addr/health"
before=$(rss "$pid")
bad=0
count=0
for f in "$DOCS"/*; do
  count=$((count + 1))
  start=$(date +%s%N)
  code=$(curl -s -o "$work/body" -w '%{http_code}' -F "file=@$f" -F ocr=never "$addr/extract" || echo 000)
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  err=""
  if [ "$code" != 200 ]; then
    err=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"]["code"])' "$work/body" 2>/dev/null || echo NOT-JSON)
    if [ "${code:0:1}" != 4 ] || [ "$err" = NOT-JSON ]; then bad=$((bad + 1)); fi
  fi
  printf '%s %5s ms  %-22s %s\n' "$code" "$ms" "$err" "$(basename "$f")"
done
after=$(rss "$pid")
echo "documents: $count; bad answers: $bad; server RSS before ${before} kB, after ${after} kB; children RSS now $(children_rss) kB"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
if [ "$bad" -gt 0 ] || [ "$after" -gt $((before * 2)) ]; then exit 1; fi
