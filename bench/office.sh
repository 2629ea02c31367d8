#!/usr/bin/env bash
# Office/web formats: quality (docling's reference Markdown) and whole-process speed, Folio beside
# markitdown, on the corpus's `office` set (docx, html, pptx, xlsx).
#
#   bash bench/office.sh [CORPUS_DIR]        # default ../shared/corpus
#
# Needs: `cargo build --release -p folio`, `pip install rapidfuzz 'markitdown[docx,pptx,xlsx]'`.
# FOLIO=path/to/folio overrides the binary. Results go to bench/out/office/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="$(cd "${1:-../shared/corpus}" && pwd)"
FOLIO="${FOLIO:-$PWD/target/release/folio}"
OUT="$PWD/bench/out/office"
mkdir -p "$OUT"
[ -x "$FOLIO" ] || { echo "error: $FOLIO not built (cargo build --release -p folio)" >&2; exit 2; }
command -v markitdown >/dev/null || { echo "error: markitdown not installed" >&2; exit 2; }
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p')"

python3 "$CORPUS/score.py" --set office --name folio --cmd "$FOLIO extract {input}" \
    --save "$OUT/folio" --json "$OUT/folio.json" --timeout 60 > "$OUT/folio.summary" 2> "$OUT/folio.log"
python3 "$CORPUS/score.py" --set office --name markitdown --cmd "markitdown {input}" \
    --save "$OUT/markitdown" --json "$OUT/markitdown.json" --timeout 120 > "$OUT/markitdown.summary" 2> "$OUT/markitdown.log"

python3 - "$OUT" <<'PY'
import json, os, sys
from collections import defaultdict
out = sys.argv[1]
runs = {t: json.load(open(os.path.join(out, f"{t}.json"))) for t in ("folio", "markitdown")}
def kind(doc): return doc.rsplit(".", 1)[-1]
print("\n| kind | n | folio edit_sim | markitdown edit_sim | folio s/doc | markitdown s/doc | speed-up |")
print("|---|---|---|---|---|---|---|")
rows = defaultdict(lambda: defaultdict(list))
for tool, r in runs.items():
    for d in r["docs"]:
        for k in (kind(d["doc"]), "all"):
            rows[k][tool].append(d)
for k in ["docx", "html", "pptx", "xlsx", "all"]:
    f, m = rows[k]["folio"], rows[k]["markitdown"]
    mean = lambda ds, key: sum(x.get(key) or 0 for x in ds) / max(1, len(ds))
    ft, mt = mean(f, "wall_s"), mean(m, "wall_s")
    print(f"| {k} | {len(f)} | {mean(f, 'edit_sim'):.3f} | {mean(m, 'edit_sim'):.3f} | {ft:.4f} | {mt:.4f} | {mt / max(ft, 1e-9):.1f}x |")
for tool, r in runs.items():
    print(f"{tool}: status {r['summary']['status_counts']}")
print("\nper document (edit_sim, wall seconds):")
print("| document | folio | markitdown | folio s | markitdown s |")
print("|---|---|---|---|---|")
m = {d["doc"]: d for d in runs["markitdown"]["docs"]}
for d in runs["folio"]["docs"]:
    o = m.get(d["doc"], {})
    fmt = lambda v: f"{v:.3f}" if isinstance(v, (int, float)) else "-"
    print(f"| {d['doc']} | {fmt(d.get('edit_sim'))} | {fmt(o.get('edit_sim'))} | {d.get('wall_s', 0):.4f} | {o.get('wall_s', 0):.3f} |")
PY
