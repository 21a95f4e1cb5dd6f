"""The load scenario: concurrent clients mixing valid, invalid and over-limit requests.

Clients are coroutines on one event loop, each sending one request after another through
nginx: removals and account reads with a valid key, files of the wrong type, corrupt files,
bad options, bodies over the byte limit, malformed keys, an account over its rate limit and
credits, and attempts on another account's keys (which must all fail: invariant 4). Every
answer goes into a Ledger for the invariant checks. Meanwhile a separate process probes
`/v2/health` (so that the clients' own event loop does not colour its latencies), and a
thread samples each replica's resident memory.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.support import badfiles as files
from tests.support.imagegen import encode
from tests.support.invariants import Ledger

from bench.reliability_deploy import Deployment

SMALL_PNG = encode(files.quadrants(), "PNG")
GIF = encode(files.quadrants(), "GIF")
CORRUPT_PNG = files.truncated(SMALL_PNG)
CLIENT_TIMEOUT_SECONDS = 30.0
# (kind, weight): the mix every client draws from.
MIX = (
    ("removal", 30),
    ("account", 12),
    ("wrong_type", 8),
    ("corrupt", 6),
    ("bad_option", 8),
    ("over_bytes", 4),
    ("malformed_key", 8),
    ("over_limit_account", 12),
    ("other_account", 12),
)

# Runs in its own interpreter: GET /v2/health on one kept-alive connection every 50 ms,
# then prints the latencies (ms) as JSON.
HEALTH_PROBE = """
import http.client, json, sys, time
host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
latencies, errors = [], 0
connection = http.client.HTTPConnection(host, port, timeout=5)
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    started = time.perf_counter()
    try:
        connection.request("GET", "/v2/health")
        answer = connection.getresponse()
        answer.read()
        if answer.status == 200:
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors += 1
    except OSError:
        errors += 1
        connection.close()
        connection = http.client.HTTPConnection(host, port, timeout=5)
    time.sleep(0.05)
print(json.dumps({"latencies_ms": latencies, "errors": errors}))
"""


@dataclass
class Accounts:
    main: int
    main_key: str
    limited: int
    limited_key: str
    other: int
    other_key_id: str

    @property
    def ids(self) -> list[int]:
        return [self.main, self.limited, self.other]


@dataclass
class LoadResult:
    ledger: Ledger = field(default_factory=Ledger)
    outcomes: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    health_ms: list[float] = field(default_factory=list)
    health_errors: int = 0
    peak_rss_mb: dict[int, float] = field(default_factory=dict)


def make_accounts(deployed: Deployment) -> Accounts:
    stack = deployed.stack
    main = stack.account("business", rate_per_minute=1_000_000, monthly_credits_milli=10**9)
    limited = stack.account("business", rate_per_minute=3, monthly_credits_milli=2_000)
    other = stack.account("business")
    other_key = stack.key(other)
    listed = httpx.get(
        deployed.base_url + "/api/keys", headers={"x-api-key": other_key}, timeout=10
    )
    listed.raise_for_status()
    other_key_id = listed.json()["data"][0]["id"]
    return Accounts(main, stack.key(main), limited, stack.key(limited), other, other_key_id)


async def send_one(
    client: httpx.AsyncClient, kind: str, accounts: Accounts, ledger: Ledger
) -> httpx.Response:
    main = {"x-api-key": accounts.main_key}
    if kind == "account":
        return await client.get("/v1/account", headers=main)
    if kind == "other_account":
        target = f"/api/keys/{accounts.other_key_id}"
        if secrets.randbelow(2):
            answer = await client.delete(target, headers=main)
        else:
            answer = await client.post(target + "/rotate", headers=main, json={"grace": "0"})
        if answer.status_code < 300:
            ledger.forbidden_successes.append(f"{answer.request.method} {target}")
        return answer
    image, fields, headers = SMALL_PNG, {"size": "preview"}, main
    if kind == "wrong_type":
        image = GIF
    elif kind == "corrupt":
        image = CORRUPT_PNG
    elif kind == "bad_option":
        fields = {"size": "gigantic"}
    elif kind == "over_bytes":
        image = SMALL_PNG + secrets.token_bytes(1_200_000)
    elif kind == "malformed_key":
        headers = {"x-api-key": "bgone_live_" + secrets.token_hex(19)}
    elif kind == "over_limit_account":
        headers = {"x-api-key": accounts.limited_key}
    return await client.post(
        "/v2", headers=headers, data=fields, files={"image_file": ("a.png", image, "image/png")}
    )


async def run_clients(
    base_url: str, accounts: Accounts, clients: int, seconds: float, result: LoadResult
) -> None:
    kinds, weights = zip(*MIX, strict=True)
    deadline = time.monotonic() + seconds

    async def client_loop(number: int) -> None:
        chooser = random.Random(number)
        async with httpx.AsyncClient(base_url=base_url, timeout=CLIENT_TIMEOUT_SECONDS) as client:
            while time.monotonic() < deadline:
                kind = chooser.choices(kinds, weights)[0]
                try:
                    answer = await send_one(client, kind, accounts, result.ledger)
                except httpx.HTTPError as error:
                    result.outcomes[type(error).__name__] += 1
                    continue
                result.ledger.record(answer)
                result.outcomes[str(answer.status_code)] += 1
                if answer.status_code >= 400:
                    result.error_codes[f"{answer.status_code} {error_code(answer)}"] += 1

    await asyncio.gather(*(client_loop(number) for number in range(clients)))


def error_code(answer: httpx.Response) -> str:
    """The error's code in either body shape: bgone's (and remove.bg's) `errors` list, or
    BackgroundErase's `error` object on /v2."""
    try:
        body = answer.json()
        code: str = body["error"]["code"] if "error" in body else body["errors"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        return "(no JSON error body)"
    return code


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def sample_memory(deployed: Deployment, result: LoadResult, stop: threading.Event) -> None:
    while not stop.wait(0.25):
        for replica in deployed.replicas:
            try:
                now = resident_mb(replica.pid)
            except OSError:  # the process is gone
                continue
            result.peak_rss_mb[replica.port] = max(result.peak_rss_mb.get(replica.port, 0), now)


def run_load(deployed: Deployment, accounts: Accounts, clients: int, seconds: float) -> LoadResult:
    result = LoadResult()
    host, port = deployed.base_url.removeprefix("http://").split(":")
    probe = subprocess.Popen(
        [sys.executable, "-c", HEALTH_PROBE, host, port, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    stop = threading.Event()
    sampler = threading.Thread(target=sample_memory, args=(deployed, result, stop), daemon=True)
    sampler.start()
    try:
        asyncio.run(run_clients(deployed.base_url, accounts, clients, seconds, result))
        output, _ = probe.communicate(timeout=seconds + 30)
        measured = json.loads(output)
        result.health_ms, result.health_errors = measured["latencies_ms"], measured["errors"]
    finally:
        stop.set()
        sampler.join()
        if probe.poll() is None:
            probe.kill()  # by its pid, through the Popen handle
            probe.wait()
    return result
