"""The traffic of the isolation benchmark: the victim, the probes and the four attackers.

Each runs on threads of its own with its own HTTP client, against one `bgone serve`; the
attackers run until told to stop, the victim until it has sent its requests.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import numpy as np
from PIL import Image
from tests.support.imagegen import encode, gradient_rgb

from bench.reliability_load import error_code

# 1 MP, the victim's photo.
VICTIM_IMAGE = encode(gradient_rgb(1000, 1000), "JPEG", quality=90)
# 12 MP, the over-the-limit attacker's.
LARGE_IMAGE = encode(gradient_rgb(4000, 3000), "JPEG", quality=90)
PROBE_INTERVAL_SECONDS = 0.02


def noise_png(side: int = 2880) -> bytes:
    """A valid PNG of about 25 MB (random pixels do not compress; stored, not deflated)."""
    pixels = np.random.default_rng(14).integers(0, 256, (side, side, 3), dtype=np.uint8)
    return encode(Image.fromarray(pixels, "RGB"), "PNG", compress_level=0)


@dataclass
class VictimResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


def run_victim(base_url: str, key: str, requests: int, concurrency: int) -> VictimResult:
    """`requests` 1 MP removals, `concurrency` at a time; every answer but a 200 is an error."""
    result, lock = VictimResult(), threading.Lock()
    left = iter(range(requests))

    def worker() -> None:
        with httpx.Client(base_url=base_url, headers={"x-api-key": key}, timeout=120) as client:
            while next(left, None) is not None:
                started = time.perf_counter()
                try:
                    response = client.post("/v2", files={"image_file": ("v.jpg", VICTIM_IMAGE)})
                    outcome = str(response.status_code)
                except httpx.HTTPError as error:
                    outcome = type(error).__name__
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if outcome == "200":
                        result.latencies_ms.append(elapsed)
                    else:
                        result.errors[outcome] += 1

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    return result


@dataclass
class ProbeResult:
    readyz_ms: list[float] = field(default_factory=list)
    account_ms: list[float] = field(default_factory=list)
    errors: int = 0


def probe_until(stop: threading.Event, base_url: str, key: str, result: ProbeResult) -> None:
    """/readyz and /v1/account in turn, every PROBE_INTERVAL_SECONDS, until `stop`."""
    probes: tuple[tuple[str, dict[str, str], list[float]], ...] = (
        ("/readyz", {}, result.readyz_ms),
        ("/v1/account", {"x-api-key": key}, result.account_ms),
    )
    with httpx.Client(base_url=base_url, timeout=30) as client:
        while not stop.is_set():
            for path, headers, latencies in probes:
                started = time.perf_counter()
                try:
                    ok = client.get(path, headers=headers).status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                result.errors += not ok
            stop.wait(PROBE_INTERVAL_SECONDS)


@dataclass
class Attack:
    """One attacker: `workers` threads each calling `send` until stopped."""

    name: str
    workers: int
    send: Callable[[httpx.Client], httpx.Response]
    honour_retry_after: bool = False  # an SDK-like client; the hostile ones do not
    pace_seconds: float = 0.0  # each worker's pause between requests
    outcomes: Counter[str] = field(default_factory=Counter)

    def run_until(self, stop: threading.Event, base_url: str) -> list[threading.Thread]:
        lock = threading.Lock()

        def worker() -> None:
            with httpx.Client(base_url=base_url, timeout=120) as client:
                while not stop.is_set():
                    started = time.perf_counter()
                    try:
                        response = self.send(client)
                        outcome = str(response.status_code)
                        if response.status_code >= 400:
                            outcome += " " + error_code(response)
                    except (httpx.HTTPError, ValueError, KeyError) as error:
                        response, outcome = None, type(error).__name__
                    with lock:
                        self.outcomes[outcome] += 1
                    pause = self.pace_seconds - (time.perf_counter() - started)
                    if self.honour_retry_after and response is not None:
                        pause = max(pause, float(response.headers.get("retry-after", 0)))
                    if pause > 0:
                        stop.wait(pause)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.workers)]
        for thread in threads:
            thread.start()
        return threads


def slow_urls(key: str, slow_url: str) -> Attack:
    """(a) 45 parallel image_urls at a host that drips a byte a second."""
    return Attack(
        "(a) 45 slow image_urls, 1 image/min account",
        45,
        lambda client: client.post("/v2", headers={"x-api-key": key}, json={"image_url": slow_url}),
        pace_seconds=1.0,
    )


def large_uploads(key: str, image: bytes) -> Attack:
    """(b) 16 concurrent uploads of a valid 25 MB image, within the account's limits."""
    return Attack(
        "(b) 16 concurrent 25 MB uploads, admitted",
        16,
        lambda client: client.post(
            "/v2", headers={"x-api-key": key}, files={"image_file": ("big.png", image)}
        ),
        honour_retry_after=True,
    )


def revoked_key(key: str, per_second: float = 200.0, workers: int = 4) -> Attack:
    """(c) 200 requests a second with a revoked key."""
    return Attack(
        "(c) 200 requests/s, revoked key",
        workers,
        lambda client: client.post("/v2", headers={"x-api-key": key}, json={"image_url": "x"}),
        pace_seconds=workers / per_second,
    )


def over_the_limit(key: str) -> Attack:
    """(d) 32 concurrent 12 MP removals from an account over its rate limit."""
    return Attack(
        "(d) 32 concurrent 12 MP, over its rate limit",
        32,
        lambda client: client.post(
            "/v2", headers={"x-api-key": key}, files={"image_file": ("12mp.jpg", LARGE_IMAGE)}
        ),
    )
