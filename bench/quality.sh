#!/usr/bin/env bash
# Quality of `folio extract` on the corpus next to the tools users would otherwise pick, all run
# in this one session with ../shared/corpus/score.py. Needs: pip install rapidfuzz pymupdf pypdf;
# Debian poppler-utils. Usage: bash bench/quality.sh [path/to/folio] [corpus dir] (defaults: the
# release build, and $FOLIO_CORPUS or ../shared/corpus beside the repository).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
folio=${1:-$root/target/release/folio}
corpus=${2:-${FOLIO_CORPUS:-$root/../shared/corpus}}
[ -f "$corpus/score.py" ] || { echo "no corpus at $corpus (score.py missing)" >&2; exit 1; }
out=${OUT:-$root/bench/out/quality}
mkdir -p "$out"
py_pymupdf='import sys,pymupdf
d=pymupdf.open(sys.argv[1])
for p in d: sys.stdout.write(p.get_text())'
py_pypdf='import sys,pypdf
r=pypdf.PdfReader(sys.argv[1])
for p in r.pages: sys.stdout.write(p.extract_text() or "")'
printf '%s\n' "$py_pymupdf" > "$out/pymupdf_text.py"
printf '%s\n' "$py_pypdf" > "$out/pypdf_text.py"

run() { # set name format-flag command
  local set=$1 name=$2 cmd=$3
  python3 "$corpus/score.py" --set "$set" --cmd "$cmd" --name "$name" --timeout 30 \
    --json "$out/$set-$name.json" >/dev/null 2>&1 || true
}
for set in text text_words robust; do
  fmt=markdown; [ "$set" = text_words ] && fmt=text
  run "$set" folio "$folio extract {input} --format $fmt"
  run "$set" pdftotext "pdftotext {input} -"
  run "$set" pymupdf "python3 $out/pymupdf_text.py {input}"
  run "$set" pypdf "python3 $out/pypdf_text.py {input}"
done
python3 - "$out" <<'PY'
import json, sys, glob, os
out = sys.argv[1]
rows = {}
for f in sorted(glob.glob(os.path.join(out, "*.json"))):
    d = json.load(open(f))
    s = d.get("summary", d)
    rows.setdefault(s.get("set"), []).append(s)
cols = {"text": ["edit_sim", "order_sim", "word_f1"], "text_words": ["word_r", "word_f1"], "robust": []}
for st, items in rows.items():
    print(f"\n{st}")
    keys = cols.get(st, [])
    print("| tool | " + " | ".join(keys + ["s/page total", "peak RSS MB", "status"]) + " |")
    print("|---" * (len(keys) + 4) + "|")
    for s in sorted(items, key=lambda s: s["name"]):
        vals = [f"{s.get(k, float('nan')):.3f}" for k in keys]
        print(f"| {s['name']} | " + " | ".join(vals + [f"{s.get('total_s_per_page', 0):.4f}",
              f"{s.get('peak_rss_mb_max', 0):.1f}", json.dumps(s.get('status_counts'))]) + " |")
PY
