#!/usr/bin/env bash
# Fields on the SROIE receipts (CORPUS/ocr/docs, ground truth in CORPUS/fields/gt), no LLM:
# exact-match scores from score.py, and the time fields add on top of extraction (the same
# receipts extracted with and without `--fields`, interleaved, one process per image).
# Usage: bash bench/fields.sh [CORPUS] (default ../shared/corpus); FOLIO=path/to/folio
# (default: the release build). Needs: pip install rapidfuzz.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=$(cd "${1:-$root/../shared/corpus}" && pwd)
folio=${FOLIO:-$root/target/release/folio}
out=${OUT:-$root/bench/out/fields}
mkdir -p "$out"
[ -x "$folio" ] || { echo "no folio binary at $folio (cargo build --release -p folio)" >&2; exit 1; }

python3 "$corpus/score.py" --set fields --name folio-rules --timeout 120 \
  --cmd "$folio extract {input} --fields company,date,address,total --format fields" \
  --json "$out/scores.json" --save "$out/outputs" >/dev/null 2>"$out/score.log"

# Time: each receipt with and without fields, alternating, so that load on the machine falls on
# both alike.
python3 - "$folio" "$corpus" "$out" <<'PY'
import glob, json, resource, subprocess, sys, time
folio, corpus, out = sys.argv[1:]
docs = sorted(glob.glob(f"{corpus}/ocr/docs/*"))
plain = fields = 0.0
# CPU seconds (user + system) of the children too: unlike wall time, they hardly move when
# other work shares the machine, and the fields stage is small beside OCR.
cpu = {"plain": 0.0, "fields": 0.0}
def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
for d in docs:
    for mode in ("plain", "fields"):
        cmd = [folio, "extract", d, "--format", "json"]
        if mode == "fields":
            cmd += ["--fields", "company,date,address,total"]
        t = time.perf_counter()
        c = children_cpu()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        dt = time.perf_counter() - t
        cpu[mode] += children_cpu() - c
        if mode == "plain": plain += dt
        else: fields += dt
json.dump({"plain_s": plain, "fields_s": fields, "plain_cpu_s": cpu["plain"],
           "fields_cpu_s": cpu["fields"], "n": len(docs)}, open(f"{out}/time.json", "w"))
PY
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
data = json.load(open(f"{out}/scores.json"))
summary = data["summary"]
t = json.load(open(f"{out}/time.json"))
print("| field | exact | similarity |")
print("|---|---|---|")
for k in ("company", "date", "address", "total"):
    ex = summary.get(f"{k}_exact"); sim = summary.get(f"{k}_sim")
    print(f"| {k} | {ex:.3f} | {sim:.3f} |")
print(f"docs: {summary.get('n_docs')}, status: {summary.get('status_counts')}")
extra = (t["fields_s"] - t["plain_s"]) / t["plain_s"] * 100
print(f"wall time, {t['n']} receipts: extraction {t['plain_s']:.1f} s, with fields {t['fields_s']:.1f} s ({extra:+.1f} %)")
extra_cpu = (t["fields_cpu_s"] - t["plain_cpu_s"]) / t["plain_cpu_s"] * 100
print(f"CPU time (user+sys): extraction {t['plain_cpu_s']:.1f} s, with fields {t['fields_cpu_s']:.1f} s ({extra_cpu:+.1f} %)")
PY
