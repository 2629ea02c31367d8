"""Load driver of bench/jobs.sh: submits 1-page jobs to `folio serve` replicas and times them.

Throughput: --jobs jobs, submitted round-robin over the replicas by --clients threads, from the
first submit to the last job seen `succeeded`. Latency: --latency-runs jobs one at a time on the
idle queue, submit to `succeeded` (polled every 2 ms). Prints one row; exits non-zero if a job
does not succeed.
"""

import argparse
import itertools
import json
import statistics
import sys
import threading
import time
import urllib.request

BOUNDARY = "folio-bench-boundary"


def body(pdf: bytes) -> bytes:
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
        f"filename=\"bench.pdf\"\r\n\r\n"
    ).encode()
    return head + pdf + f"\r\n--{BOUNDARY}--\r\n".encode()


def submit(base: str, payload: bytes) -> str:
    while True:
        req = urllib.request.Request(
            base + "/v1/jobs",
            data=payload,
            headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.load(r)["id"]
        except urllib.error.HTTPError as e:
            if e.code not in (429, 503):
                raise
            time.sleep(0.05)


def status(base: str, job: str) -> str:
    with urllib.request.urlopen(f"{base}/v1/jobs/{job}", timeout=60) as r:
        v = json.load(r)
    if v["status"] in ("failed", "cancelled"):
        sys.exit(f"job {job} ended {v['status']}: {v.get('error')}")
    return v["status"]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("urls", nargs="+")
    p.add_argument("--pdf", required=True)
    p.add_argument("--jobs", type=int, default=200)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--latency-runs", type=int, default=30)
    p.add_argument("--name", default="")
    a = p.parse_args()
    payload = body(open(a.pdf, "rb").read())

    # Latency first, on the idle queue.
    latencies = []
    for i in range(a.latency_runs):
        base = a.urls[i % len(a.urls)]
        t0 = time.perf_counter()
        job = submit(base, payload)
        while status(base, job) != "succeeded":
            time.sleep(0.002)
        latencies.append((time.perf_counter() - t0) * 1000)

    counter = itertools.count()
    ids = []
    lock = threading.Lock()

    def client() -> None:
        while (i := next(counter)) < a.jobs:
            job = submit(a.urls[i % len(a.urls)], payload)
            with lock:
                ids.append(job)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pending = list(ids)
    turn = itertools.count()
    while pending:
        pending = [
            j for j in pending if status(a.urls[next(turn) % len(a.urls)], j) != "succeeded"
        ]
        if pending:
            time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=10) if len(latencies) > 1 else latencies * 9
    print(
        f"{a.name:<22} {a.jobs / elapsed:8.1f} {statistics.median(latencies):12.1f} {q[8]:12.1f}"
    )


if __name__ == "__main__":
    main()
