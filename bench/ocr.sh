#!/usr/bin/env bash
# OCR quality and speed on the SROIE receipts (../shared/corpus/ocr), folio beside tesseract and
# rapidocr, all run in this one session on the same images, one process per image (start-up and
# model loading included, as a user pays them). Needs: pip install rapidfuzz rapidocr onnxruntime;
# Debian tesseract-ocr tesseract-ocr-eng. Usage: bash bench/ocr.sh [path/to/folio] [corpus dir]
# (defaults: the release build, and $FOLIO_CORPUS or ../shared/corpus beside the repository). Extra folio flags can go in FOLIO_FLAGS. FOLIO_ORT_BIN=path/to/folio built
# with `--features ort` (and ORT_DYLIB_PATH set to libonnxruntime) adds a row for the ort backend.
# On an AVX-512 CPU a folio-avx2 row runs the same binary on its AVX2 kernels (FOLIO_SIMD=avx2);
# a folio-f32 row runs it with the recogniser in f32 (FOLIO_REC_PRECISION=f32).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
folio=${1:-$root/target/release/folio}
corpus=${2:-${FOLIO_CORPUS:-$root/../shared/corpus}}
[ -f "$corpus/score.py" ] || { echo "no corpus at $corpus (score.py missing)" >&2; exit 1; }
out=${OUT:-$root/bench/out/ocr}
mkdir -p "$out"
command -v tesseract >/dev/null || { echo "tesseract is missing: apt-get install tesseract-ocr tesseract-ocr-eng" >&2; exit 1; }
python3 -c 'import rapidfuzz, rapidocr' 2>/dev/null || { echo "missing: pip install rapidfuzz rapidocr onnxruntime" >&2; exit 1; }

run() { # name command
  python3 "$corpus/score.py" --set ocr --cmd "$2" --name "$1" --timeout 120 \
    --json "$out/$1.json" --save "$out/$1" >/dev/null 2>&1
}
run folio "$folio extract {input} --format text --ocr always ${FOLIO_FLAGS:-}"
# On an AVX-512 CPU, the same binary on its AVX2 kernels too (what AVX2-only CPUs run).
tools_extra=
if grep -qw avx512f /proc/cpuinfo 2>/dev/null && [ -z "${FOLIO_SIMD:-}" ]; then
  run folio-avx2 "FOLIO_SIMD=avx2 $folio extract {input} --format text --ocr always ${FOLIO_FLAGS:-}"
  tools_extra=folio-avx2
fi
# The recogniser in the model's own f32 (FOLIO_REC_PRECISION=f32), to show what int8 costs and buys.
run folio-f32 "FOLIO_REC_PRECISION=f32 $folio extract {input} --format text --ocr always ${FOLIO_FLAGS:-}"
tools_extra="$tools_extra folio-f32"
# Tesseract as the corpus baselines run it: one thread, its default page segmentation.
run tesseract "OMP_THREAD_LIMIT=1 tesseract {input} - 2>/dev/null"
run rapidocr "python3 $root/bench/rapidocr_text.py {input} 2>/dev/null"
tools="folio $tools_extra tesseract rapidocr"
if [ -n "${FOLIO_ORT_BIN:-}" ]; then
  run folio-ort "$FOLIO_ORT_BIN extract {input} --format text --ocr always --ocr-backend ort"
  tools="folio $tools_extra folio-ort tesseract rapidocr"
fi

# Which CPU, and which kernels each row ran on: the figures mean little without them.
"$folio" doctor | grep '^cpu:' || true
[[ " $tools_extra " != *" folio-avx2 "* ]] || echo "folio-avx2: the same binary with FOLIO_SIMD=avx2 (AVX2 kernels)"
echo "folio-f32: the same binary with FOLIO_REC_PRECISION=f32 (the recogniser's 1x1 convolutions in f32, not int8)"
CORPUS=$corpus python3 - "$out" $tools <<'PY'
import json, os, sys
out = sys.argv[1]
rows = {n: json.load(open(os.path.join(out, n + ".json")))["summary"] for n in sys.argv[2:]}
t = rows["tesseract"]
print("| tool | cer_ci | cer | wer | bow_f1 | s/image | x tesseract time | cer_ci / tesseract's | peak RSS MB | status |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, s in rows.items():
    print(f"| {name} | {s['cer_ci']:.4f} | {s['cer']:.4f} | {s['wer']:.4f} | {s['bow_f1']:.4f} | "
          f"{s['total_s_per_page']:.3f} | {s['total_s_per_page'] / t['total_s_per_page']:.2f} | "
          f"{s['cer_ci'] / t['cer_ci']:.2f} | {s['peak_rss_mb_max']:.0f} | {json.dumps(s['status_counts'])} |")

# Small images (under 3 megapixels: most receipts, phone photos, single scanned pages) are where
# fixed costs weigh most, so they get their own line.
try:
    from PIL import Image
except ImportError:
    sys.exit("(no Pillow: pip install pillow for the line on images under 3 megapixels)")
docs = {n: json.load(open(os.path.join(out, n + ".json")))["docs"] for n in rows}
corpus_docs = os.path.join(os.environ["CORPUS"], "ocr", "docs")
def megapixels(name):
    with Image.open(os.path.join(corpus_docs, name)) as im:
        return im.width * im.height / 1e6
small = {d["doc"] for d in docs["tesseract"] if megapixels(d["doc"]) < 3.0}
def per_image(n):
    times = [d["wall_s"] for d in docs[n] if d["doc"] in small]
    return sum(times) / max(1, len(times))
tt = per_image("tesseract")
print()
print(f"| images under 3 MP ({len(small)} of {len(docs['tesseract'])}) | s/image | x tesseract time |")
print("|---|---|---|")
for n in rows:
    print(f"| {n} | {per_image(n):.3f} | {per_image(n) / tt:.2f} |")
PY

# The same folio rows and tesseract again, image by image in turn, so that drift in this machine's
# speed during the run slows all of them alike (bench/ocr_interleaved.py).
echo
interleaved=("folio=$folio extract {input} --format text --ocr always ${FOLIO_FLAGS:-}")
if [[ " $tools_extra " == *" folio-avx2 "* ]]; then
  interleaved+=("folio-avx2=FOLIO_SIMD=avx2 $folio extract {input} --format text --ocr always ${FOLIO_FLAGS:-}")
fi
interleaved+=("tesseract=OMP_THREAD_LIMIT=1 tesseract {input} -")
python3 "$root/bench/ocr_interleaved.py" "$corpus/ocr/docs" "${interleaved[@]}"
