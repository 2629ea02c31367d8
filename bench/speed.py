#!/usr/bin/env python3
"""Whole-process speed of `folio extract` against the tools users would otherwise pick.

One run, same files, same machine: every tool is started once per document (so start-up cost is
counted, as a user pays it), with a per-document time limit. Pages come from PyMuPDF's count
(documents it cannot open count as one page). Peak RSS is the largest of any single process.

    python3 bench/speed.py [--folio target/release/folio] [--corpus ../shared/corpus]
                           [--sets text,text_words,robust] [--timeout 30] [--json out.json]

Also builds a 500+ page PDF (pdfunite of a corpus document) and reports folio's peak RSS on it.
Folio runs twice, with the default `--layout auto` and with `--layout fast`, and the documents on
which auto cost more than fast are listed. Folio runs with `--ocr never`: this compares text-layer extraction with text-layer extractors
(the robust set holds scanned pages that folio would otherwise read by OCR, which
bench/ocr.sh measures against OCR tools).
"""
import argparse, glob, json, os, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.environ.get("FOLIO_CORPUS") or os.path.normpath(os.path.join(HERE, "..", "..", "shared", "corpus"))

# A document on which any tool spends longer than this is reported apart as well.
SLOW_S = 5.0
# A document on which `--layout auto` takes this much longer than `--layout fast` is listed: the
# layout models ran on some of its pages.
MODEL_COST_S = 0.1
PY_PYMUPDF = "import sys,pymupdf\nd=pymupdf.open(sys.argv[1])\nfor p in d: sys.stdout.write(p.get_text())"
PY_PYPDF = "import sys,pypdf\nr=pypdf.PdfReader(sys.argv[1])\nfor p in r.pages: sys.stdout.write(p.extract_text() or '')"


def page_counts(paths):
    """PyMuPDF's page count of each file, counted in a child process so that this process stays
    small (a spawned child's peak RSS starts from its parent's size until it execs)."""
    code = ("import sys,json,pymupdf\nout=[]\nfor p in sys.argv[1:]:\n"
            " try:\n  d=pymupdf.open(p); out.append(max(1,d.page_count))\n except Exception: out.append(1)\n"
            "print(json.dumps(out))")
    res = subprocess.run([sys.executable, "-c", code] + list(paths), capture_output=True, text=True, check=True)
    return dict(zip(paths, json.loads(res.stdout)))


def run_one(cmd, timeout):
    """Runs cmd once; returns (wall seconds, peak RSS in KB, status). wait4 gives the child's own
    peak RSS without a wrapper process, so the harness adds as little as possible to the timing."""
    # posix_spawn (vfork semantics) rather than fork: a forked child's peak RSS would start at
    # this Python process's size.
    devnull = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    exe = cmd[0] if os.path.isabs(cmd[0]) else shutil.which(cmd[0])
    start = time.perf_counter()
    child = os.posix_spawn(exe, cmd, os.environ, file_actions=actions)
    os.close(devnull)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(child, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            os.kill(child, 9)
            pid, status, usage = os.wait4(child, 0)
            return time.perf_counter() - start, usage.ru_maxrss, "timeout"
        time.sleep(0.0005)
    elapsed = time.perf_counter() - start
    if os.WIFSIGNALED(status):
        return elapsed, usage.ru_maxrss, "crash"
    return elapsed, usage.ru_maxrss, "ok" if os.WEXITSTATUS(status) == 0 else "error"


def measure(name, argv_for, files, timeout):
    total, statuses, peak = 0.0, {}, 0
    per_file = []
    for f in files:
        elapsed, rss, status = run_one(argv_for(f), timeout)
        peak = max(peak, rss)
        total += elapsed
        statuses[status] = statuses.get(status, 0) + 1
        per_file.append((f, elapsed, status))
    return {"tool": name, "seconds": total, "peak_rss_mb": peak / 1024, "status": statuses, "per_file": per_file}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folio", default=os.path.join(HERE, "..", "target", "release", "folio"))
    ap.add_argument("--corpus", default=CORPUS, help="the corpus folder (default: $FOLIO_CORPUS or ../shared/corpus)")
    ap.add_argument("--sets", default="text,text_words,robust")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--json")
    a = ap.parse_args()
    files = []
    for s in a.sets.split(","):
        files += sorted(f for f in glob.glob(os.path.join(a.corpus, s, "docs", "*")) if os.path.isfile(f))
    pages = page_counts(files)
    n_pages = sum(pages.values())
    tools = [
        ("folio", lambda f: [a.folio, "extract", f, "--format", "markdown", "--ocr", "never"]),
        # The default `--layout auto` against `fast` (no layout or table model on any page): the
        # difference is what the models cost on the pages auto sends them.
        ("folio-fast", lambda f: [a.folio, "extract", f, "--format", "markdown", "--ocr", "never",
                                  "--layout", "fast"]),
        ("pdftotext", lambda f: ["pdftotext", f, "-"]),
        ("pymupdf", lambda f: [sys.executable, "-c", PY_PYMUPDF, f]),
        ("pypdf", lambda f: [sys.executable, "-c", PY_PYPDF, f]),
    ]
    results = [measure(n, argv, files, a.timeout) for n, argv in tools]
    # The same figures without documents on which any tool hit the time limit, so one
    # pathological file cannot decide the comparison.
    slow = {f for r in results for (f, t, st) in r["per_file"] if st == "timeout" or t > SLOW_S}
    kept_pages = sum(p for f, p in pages.items() if f not in slow)
    print(f"{len(files)} documents, {n_pages} pages ({a.sets}); per-document limit {a.timeout:.0f} s")
    print(f"{'tool':<10} {'pages/s':>9} {'pages/s*':>9} {'s total':>8} {'peak MB':>8}  status")
    base = {}
    for r in results:
        kept = sum(t for (f, t, _) in r["per_file"] if f not in slow)
        r["pages_per_s"] = n_pages / r["seconds"]
        r["pages_per_s_without_timeouts"] = kept_pages / kept if kept else 0.0
        base[r["tool"]] = r
        print(f"{r['tool']:<10} {r['pages_per_s']:>9.1f} {r['pages_per_s_without_timeouts']:>9.1f} "
              f"{r['seconds']:>8.2f} {r['peak_rss_mb']:>8.1f}  {r['status']}")
    p = base["pdftotext"]
    for name in ("folio", "folio-fast"):
        f = base[name]
        print(f"{name} / pdftotext: {f['pages_per_s'] / p['pages_per_s']:.2f}x pages/s "
              f"({f['pages_per_s_without_timeouts'] / p['pages_per_s_without_timeouts']:.2f}x without the "
              f"{len(slow)} slow document(s): {', '.join(os.path.basename(x) for x in sorted(slow))})")
    fast = {f: t for (f, t, _) in base["folio-fast"]["per_file"]}
    costly = [(t - fast[f], f) for (f, t, _) in base["folio"]["per_file"] if t - fast[f] > MODEL_COST_S]
    for extra, f in sorted(costly, reverse=True):
        print(f"  --layout auto +{extra:.2f} s on {os.path.basename(f)}")
    print(f"* pages/s without documents on which any tool hit the time limit or took over {SLOW_S:.0f} s")

    # Memory on a long document: 5 copies of the longest corpus PDF, joined with pdfunite.
    longest = max(files, key=lambda f: pages[f])
    with tempfile.TemporaryDirectory() as d:
        big = os.path.join(d, "big.pdf")
        copies = max(1, -(-500 // pages[longest]))
        subprocess.run(["pdfunite"] + [longest] * copies + [big], check=True, stderr=subprocess.DEVNULL)
        big_pages = page_counts([big])[big]
        r = measure("folio-big", lambda f: [a.folio, "extract", f, "--format", "markdown", "--ocr", "never"], [big], 300)
        q = measure("pdftotext-big", lambda f: ["pdftotext", f, "-"], [big], 300)
        print(f"{big_pages}-page PDF ({os.path.basename(longest)} x{copies}): folio {r['seconds']:.2f} s, "
              f"peak RSS {r['peak_rss_mb']:.1f} MB, {r['status']}; pdftotext {q['seconds']:.2f} s, "
              f"peak RSS {q['peak_rss_mb']:.1f} MB")
    if a.json:
        for r in results:
            r.pop("per_file", None)
        json.dump({"documents": len(files), "pages": n_pages, "results": results}, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
