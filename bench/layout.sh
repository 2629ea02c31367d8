#!/usr/bin/env bash
# Seconds per page of each `--layout` mode (auto, model, fast) on the `text` set (born-digital
# PDFs) and the `ocr` set (receipt scans), next to pdftotext on the text set and tesseract on the
# receipts, all run in this one session, one process per document (start-up and model loading
# included, as a user pays them), with the quality score of each run beside its time.
#
# Needs: pip install rapidfuzz; Debian poppler-utils (pdftotext), tesseract-ocr
# tesseract-ocr-eng; the models installed (`folio models install`).
# Usage: bash bench/layout.sh [path/to/folio] [corpus dir]
# (defaults: the release build, and $FOLIO_CORPUS or ../shared/corpus beside the repository).
# SETS="text" or SETS="ocr" runs one set only; MODES="auto fast" a subset of the modes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
folio=${1:-$root/target/release/folio}
corpus=${2:-${FOLIO_CORPUS:-$root/../shared/corpus}}
[ -f "$corpus/score.py" ] || { echo "no corpus at $corpus (score.py missing)" >&2; exit 1; }
out=${OUT:-$root/bench/out/layout}
mkdir -p "$out"
sets=${SETS:-text ocr}
modes=${MODES:-auto model fast}
command -v pdftotext >/dev/null || { echo "pdftotext is missing: apt-get install poppler-utils" >&2; exit 1; }
command -v tesseract >/dev/null || { echo "tesseract is missing: apt-get install tesseract-ocr tesseract-ocr-eng" >&2; exit 1; }

run() { # set name command
  python3 "$corpus/score.py" --set "$1" --cmd "$3" --name "$2" --timeout 300 \
    --json "$out/$1-$2.json" >/dev/null 2>&1
}

rows=()
for set in $sets; do
  case $set in
    text)
      for mode in $modes; do
        run text "folio-$mode" "$folio extract {input} --format markdown --layout $mode"
        rows+=("text-folio-$mode")
      done
      run text pdftotext "pdftotext -layout {input} -"
      rows+=("text-pdftotext")
      ;;
    ocr)
      for mode in $modes; do
        run ocr "folio-$mode" "$folio extract {input} --format text --layout $mode"
        rows+=("ocr-folio-$mode")
      done
      run ocr tesseract "OMP_THREAD_LIMIT=1 tesseract {input} - 2>/dev/null"
      rows+=("ocr-tesseract")
      ;;
    *) echo "unknown set $set (text or ocr)" >&2; exit 1 ;;
  esac
done

python3 - "$out" "${rows[@]}" <<'PY'
import json, os, sys
out = sys.argv[1]
print(f"CPU: {next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')}, {os.cpu_count()} cores")
print("| set | tool | s/page (all pages) | s/page (mean of documents) | x baseline | quality | status |")
print("|---|---|---|---|---|---|---|")
rows = {n: json.load(open(os.path.join(out, n + ".json")))["summary"] for n in sys.argv[2:]}
base = {"text": rows.get("text-pdftotext"), "ocr": rows.get("ocr-tesseract")}
for name, s in rows.items():
    kind = name.split("-", 1)[0]
    b = base.get(kind)
    ratio = f"{s['total_s_per_page'] / b['total_s_per_page']:.2f}" if b else "-"
    quality = (f"edit_sim {s.get('edit_sim', 0):.3f}" if kind == "text"
               else f"cer_ci {s.get('cer_ci', 0):.4f}")
    per_doc = s.get("s_per_page")
    per_doc = f"{per_doc:.3f}" if isinstance(per_doc, (int, float)) else "-"
    print(f"| {kind} | {name.split('-', 1)[1]} | {s['total_s_per_page']:.3f} | {per_doc} | {ratio} | "
          f"{quality} | {json.dumps(s['status_counts'])} |")
PY
