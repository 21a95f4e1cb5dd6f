"""Batch jobs benchmark (issue 17): workers against the synchronous server, in one run.

    python -m bench.jobs              # 500 images of 1 MP: several minutes on 2 cores
    python bench/jobs.py --smoke      # tiny sizes, every scenario (what CI runs)

One real `bgone serve` (SQLite, u2netp, `BGONE_SERVE_JOBS=off`, so that only workers run
items) and `bgone worker` processes on the same database, queue file and result directory.
Scenarios: the synchronous API's throughput at concurrency 4 (the baseline); one job of N
images with one worker, then with two (throughput, submit to first result, `GET
/v1/jobs/{id}` p99 while it runs); two workers with one SIGKILLed at 50% (the job completes,
N results, N charged rows, no duplicate); a worker's peak RSS on 12 MP items with
quality=fast. It prints one table with each target met or missed, and exits non-zero when a
target is missed (in --smoke, only when a job does not complete or a charge is wrong).
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

if not __package__:  # run as `python bench/jobs.py`: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import func, select
from tests.support.imagegen import encode, gradient_rgb
from tests.support.process import free_port, start_bgone_serve, start_bgone_worker, stop_process
from tests.support.stack import Stack

from bgone.db.engine import transaction
from bgone.db.migrate import upgrade
from bgone.db.tables import UsageRecordRow
from bgone.inference import provision
from bgone.inference.catalog import find_model
from bgone.settings import Settings

LOTS = 1_000_000
SYNC_CONCURRENCY = 4
# The client polls every 50 ms until the first result (that figure is timed to 50 ms), then
# 4 times a second: 4x the SDK's `wait()`. Each poll is a request the server answers on the
# cores the worker uses; polling 20 times a second for the whole job cost the job about 5 %
# of its throughput, a load no client of ours puts on it.
FIRST_RESULT_POLL_SECONDS = 0.05
POLL_SECONDS = 0.25


def photo(megapixels: float) -> bytes:
    side = int((megapixels * 1_000_000) ** 0.5)
    return encode(gradient_rgb(side * 4 // 3, side * 3 // 4), "JPEG", quality=90)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values) or [float("nan")]
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class JobRun:
    seconds: float = 0.0
    first_result_s: float = float("nan")
    status_ms: list[float] = field(default_factory=list)
    state: str = ""
    succeeded: int = 0
    charged_rows: int = 0
    distinct_rows: int = 0
    zip_results: int = 0

    def throughput(self, images: int) -> float:
        return images / self.seconds if self.seconds else 0.0


def sync_throughput(base_url: str, key: str, image: bytes, count: int) -> float:
    def one(_: int) -> None:
        answer = httpx.post(
            f"{base_url}/v2",
            headers={"x-api-key": key},
            files={"image_file": ("photo.jpg", image, "image/jpeg")},
            data={"size": "full", "format": "png"},
            timeout=300,
        )
        answer.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(SYNC_CONCURRENCY) as pool:
        list(pool.map(one, range(count)))
    return count / (time.perf_counter() - started)


def run_job(
    base_url: str,
    stack: Stack,
    key: str,
    images: list[bytes],
    fields: dict[str, str],
    at_half: threading.Event | None = None,
) -> JobRun:
    run = JobRun()
    files = [("image_file", (f"p{n}.jpg", data, "image/jpeg")) for n, data in enumerate(images)]
    headers = {"x-api-key": key}
    started = time.perf_counter()
    answer = httpx.post(
        f"{base_url}/v1/jobs", headers=headers, files=files, data=fields, timeout=600
    )
    answer.raise_for_status()
    accepted = time.perf_counter()
    job_id = answer.json()["id"]
    with httpx.Client(headers=headers, timeout=30) as poller:  # one connection, as the SDK
        while True:
            asked = time.perf_counter()
            job = poller.get(f"{base_url}/v1/jobs/{job_id}").json()
            run.status_ms.append((time.perf_counter() - asked) * 1000)
            done = job["counts"]["succeeded"]
            if done and run.first_result_s != run.first_result_s:  # still NaN
                run.first_result_s = time.perf_counter() - accepted
            if at_half is not None and done >= len(images) // 2:
                at_half.set()
            if job["state"] not in ("queued", "running"):
                break
            time.sleep(POLL_SECONDS if done else FIRST_RESULT_POLL_SECONDS)
    run.seconds = time.perf_counter() - started
    run.state, run.succeeded = job["state"], job["counts"]["succeeded"]
    with transaction(stack.sessions) as session:
        charged = (UsageRecordRow.request_id.startswith(job_id), UsageRecordRow.credits_milli > 0)
        run.charged_rows = session.scalar(select(func.count()).where(*charged)) or 0
        run.distinct_rows = (
            session.scalar(
                select(func.count(func.distinct(UsageRecordRow.request_id))).where(*charged)
            )
            or 0
        )
    with httpx.stream("GET", f"{base_url}/v1/jobs/{job_id}/results.zip", headers=headers) as zipped:
        body = b"".join(zipped.iter_bytes())
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        run.zip_results = sum(1 for name in archive.namelist() if name != "errors.json")
    return run


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, every scenario")
    parser.add_argument("--images", type=int, default=500, help="images in a job")
    options = parser.parse_args(argv)
    count = 6 if options.smoke else options.images
    small = photo(0.05 if options.smoke else 1.0)
    large = photo(0.5 if options.smoke else 12.0)
    large_count = 2 if options.smoke else 6
    model_dir = Settings().models_path
    provision.pull(find_model("u2netp", model_dir), model_dir)
    cores = os.cpu_count() or 1
    rows: list[tuple[str, str, str, bool]] = []  # (measure, figure, target, met)
    with tempfile.TemporaryDirectory(prefix="bgone-jobs-") as scratch:
        data = Path(scratch)
        stack = Stack("jobs", data, model_dir, f"sqlite:///{data / 'bgone.db'}")
        upgrade(stack.database_url)
        env = {
            **os.environ,
            "BGONE_DATA_DIR": str(data),
            "BGONE_MODEL_DIR": str(model_dir),
            "BGONE_DATABASE_URL": stack.database_url,
            "BGONE_REDIS_URL": "",
            "BGONE_SERVE_JOBS": "off",
            "BGONE_JOB_LEASE_SECONDS": "5",
            "BGONE_ACCESS_LOG": "false",
            # One account, as in bench/speed.py: its share of the pools is the whole pool.
            "BGONE_ACCOUNT_SHARE": "1000",
        }
        port = free_port()
        server = start_bgone_serve(env, port, data / "server.log")
        base_url = f"http://127.0.0.1:{port}"
        plenty = {"rate_per_minute": LOTS, "monthly_credits_milli": LOTS * 1000}
        key = stack.key(stack.account("business", **plenty))
        fields = {"size": "full", "format": "png"}

        def workers(how_many: int) -> list[subprocess.Popen[bytes]]:
            share = {**env, "BGONE_INTRA_OP_THREADS": str(max(1, cores // how_many))}
            return [
                start_bgone_worker(share, data / f"worker-{time.monotonic_ns()}.log")
                for _ in range(how_many)
            ]

        try:
            log(f"synchronous baseline: {count} images at concurrency {SYNC_CONCURRENCY}")
            baseline = sync_throughput(base_url, key, small, count)
            started = workers(1)
            log("one worker")
            one = run_job(base_url, stack, key, [small] * count, fields)
            for process in started:
                stop_process(process)
            started = workers(2)
            log("two workers")
            two = run_job(base_url, stack, key, [small] * count, fields)
            log("two workers, one SIGKILLed at 50%")
            half = threading.Event()

            def kill_at_half() -> None:
                half.wait()
                started[0].send_signal(signal.SIGKILL)

            killer = threading.Thread(target=kill_at_half, daemon=True)
            killer.start()
            killed = run_job(base_url, stack, key, [small] * count, fields, half)
            for process in started:
                stop_process(process)
            log("peak RSS at 12 MP items, quality=fast")
            [rss_worker] = workers(1)
            big = run_job(
                base_url, stack, key, [large] * large_count, {**fields, "quality": "fast"}
            )
            rss = peak_rss_mb(rss_worker.pid)
            stop_process(rss_worker)
        finally:
            stop_process(server)
    ratio = one.throughput(count) / baseline if baseline else 0.0
    two_ratio = two.throughput(count) / one.throughput(count) if one.seconds else 0.0
    complete = (
        all(
            run.state == "completed"
            and run.succeeded == run.zip_results == run.charged_rows == run.distinct_rows
            for run in (one, two, killed, big)
        )
        and killed.succeeded == count
    )
    status_p99 = percentile(one.status_ms + two.status_ms, 0.99)
    one_rate, two_rate = one.throughput(count), two.throughput(count)
    kill_figure = (
        f"{killed.state}, {killed.zip_results} results, {killed.charged_rows} charged rows, "
        f"{killed.distinct_rows} distinct"
    )
    rows += [
        ("synchronous, concurrency 4", f"{baseline:.2f} images/s", "baseline", True),
        ("one worker", f"{one_rate:.2f} images/s ({ratio:.2f}x)", ">= 0.95x", ratio >= 0.95),
        (
            "two workers",
            f"{two_rate:.2f} images/s ({two_ratio:.2f}x one)",
            ">= 1.0x",
            two_ratio >= 1.0,
        ),
        (
            "submit to first result",
            f"{one.first_result_s:.2f} s",
            "<= 2 s",
            one.first_result_s <= 2,
        ),
        ("GET /v1/jobs/{id} p99", f"{status_p99:.1f} ms", "<= 50 ms", status_p99 <= 50.0),
        (
            "SIGKILL at 50%",
            kill_figure,
            f"completed, {count} x3",
            killed.succeeded == count and complete,
        ),
        ("worker peak RSS, 12 MP fast", f"{rss:.0f} MB", "<= 1024 MB", rss <= 1024),
    ]
    print("| measure | figure | target | met |")
    print("| --- | --- | --- | --- |")
    for measure, figure, target, met in rows:
        print(f"| {measure} | {figure} | {target} | {'met' if met else 'MISSED'} |")
    missed = [measure for measure, _, _, met in rows if not met]
    if options.smoke:  # too few images for the timing targets: only correctness fails it
        missed = [] if complete else ["a job did not complete, or its results and charges differ"]
    print("all targets met" if not missed else "FAILED: " + ", ".join(missed))
    return 1 if missed else 0


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
