"""Times OCR tools image by image in turn: for each image every tool runs once, in an order that
rotates from image to image, so that a machine whose speed drifts during the run (shared
cloud CPUs do) slows every tool alike. bench/ocr.sh's table times each tool over all images
before the next starts; on such a machine its ratios can move by a tenth from run to run,
and this pass gives the steadier ones.

Usage: python3 bench/ocr_interleaved.py CORPUS_OCR_DOCS NAME=COMMAND... (COMMAND with {input};
run through the shell, output discarded). Prints a Markdown table: seconds per image over all
images and over those under 3 megapixels, and each tool's ratio to tesseract's (or, without a
tool named tesseract, to the first one's).
"""
import os
import subprocess
import sys
import time

from PIL import Image


def main():
    docs_dir, specs = sys.argv[1], sys.argv[2:]
    tools = [spec.split("=", 1) for spec in specs]
    if not tools or any(len(t) != 2 for t in tools):
        sys.exit("usage: ocr_interleaved.py DOCS_DIR NAME=COMMAND...")
    images = sorted(
        f for f in os.listdir(docs_dir) if f.lower().endswith((".jpg", ".jpeg", ".png"))
    )
    small = set()
    for name in images:
        with Image.open(os.path.join(docs_dir, name)) as im:
            if im.width * im.height < 3e6:
                small.add(name)
    times = {name: {} for name, _ in tools}
    for i, image in enumerate(images):
        path = os.path.join(docs_dir, image)
        for k in range(len(tools)):
            name, command = tools[(i + k) % len(tools)]
            start = time.perf_counter()
            done = subprocess.run(
                command.replace("{input}", path),
                shell=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=300,
            )
            times[name][image] = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"{name} failed on {image} (exit {done.returncode})")

    def mean(name, subset):
        values = [t for image, t in times[name].items() if image in subset]
        return sum(values) / max(1, len(values))

    names = [name for name, _ in tools]
    base = "tesseract" if "tesseract" in names else names[0]
    every = set(images)
    print(f"| tool, interleaved | s/image, all {len(every)} | x {base} | "
          f"s/image, the {len(small)} under 3 MP | x {base} |")
    print("|---|---|---|---|---|")
    for name, _ in tools:
        a, s = mean(name, every), mean(name, small)
        print(f"| {name} | {a:.3f} | {a / mean(base, every):.2f} | "
              f"{s:.3f} | {s / mean(base, small):.2f} |")


if __name__ == "__main__":
    main()
