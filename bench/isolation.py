"""Isolation benchmark (issue 14): a victim account's latency while another account attacks.

    python -m bench.isolation            # a few minutes: 200 victim requests per scenario
    python bench/isolation.py --smoke    # every scenario briefly (what CI runs)

One real `bgone serve` (SQLite, the fast model u2netp, the settings' defaults) on 127.0.0.1
and a slow image host on 127.0.0.3 that drips a byte a second. The victim sends 1 MP
removals at concurrency 2, first alone (its unloaded figures), then while an attacker runs
each of: (a) 45 parallel slow `image_url`s from an account limited to 1 image a minute, in
waves a second apart; (b) 16 concurrent 25 MB uploads of a valid image from an account with
room in its limits (a client that waits out Retry-After, as the SDK does: admitted work);
(c) 200 requests a second with a revoked key; (d) 32 concurrent 12 MP removals from an
account over its rate limit, each sent again as soon as it is refused. Throughout, a probe
asks `/readyz` and `/v1/account` every 20 ms. It prints one table and the targets, and
exits non-zero when a target is missed (in --smoke, only on victim or probe errors: too
few requests for a p99).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as `python bench/isolation.py`: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.abuse_hosts import image_host
from tests.support.process import free_port, start_bgone_serve, stop_process
from tests.support.stack import Stack

from bench.isolation_load import (
    Attack,
    ProbeResult,
    VictimResult,
    large_uploads,
    noise_png,
    over_the_limit,
    probe_until,
    revoked_key,
    run_victim,
    slow_urls,
)
from bgone.db.engine import transaction
from bgone.db.migrate import upgrade
from bgone.domain import api_keys
from bgone.inference import provision
from bgone.inference.catalog import find_model
from bgone.security.hashing import load_secret_ring
from bgone.settings import Settings

SLOW_HOST = "127.0.0.3"
VICTIM_CONCURRENCY = 2
PROBE_P99_TARGET_MS = 100.0
# (p50, p99) as multiples of the victim's unloaded figures; (b) is admitted work, which
# shares the CPU with the victim.
TARGETS = {"a": (1.3, 2.0), "b": (2.0, 3.0), "c": (1.3, 2.0), "d": (1.3, 2.0)}
LOTS = 1_000_000


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Row:
    name: str
    victim: VictimResult
    probes: ProbeResult
    attacker: Counter[str]

    @property
    def p50(self) -> float:
        return statistics.median(self.victim.latencies_ms or [float("nan")])

    @property
    def p99(self) -> float:
        return percentile(self.victim.latencies_ms, 0.99)


def scenario(
    name: str, base_url: str, keys: dict[str, str], requests: int, attack: Attack | None
) -> Row:
    stop, probes = threading.Event(), ProbeResult()
    threads = [threading.Thread(target=probe_until, args=(stop, base_url, keys["watcher"], probes))]
    threads[0].start()
    if attack is not None:
        threads += attack.run_until(stop, base_url)
        time.sleep(2.0)  # the attack under way before the victim starts
    victim = run_victim(base_url, keys["victim"], requests, VICTIM_CONCURRENCY)
    stop.set()
    for thread in threads:
        thread.join()
    return Row(name, victim, probes, attack.outcomes if attack else Counter())


def make_keys(stack: Stack) -> dict[str, str]:
    plenty = {"rate_per_minute": LOTS, "monthly_credits_milli": LOTS * 1000}
    keys = {
        "victim": stack.key(stack.account("business", **plenty)),
        "watcher": stack.key(stack.account("business", **plenty)),
        "slow": stack.key(stack.account("business", rate_per_minute=1)),
        "uploads": stack.key(stack.account("business", **plenty)),
        "limited": stack.key(stack.account("business", rate_per_minute=1)),
    }
    revoked_account = stack.account("business")
    with transaction(stack.sessions) as session:
        issued = api_keys.create_key(
            session,
            revoked_account,
            "bench",
            "production",
            "bench",
            load_secret_ring(stack.settings),
        )
        api_keys.revoke(session, revoked_account, issued.record.id, "bench")
    keys["revoked"] = issued.secret
    return keys


def print_table(rows: list[Row]) -> list[str]:
    """The table; returns the targets missed."""
    base = rows[0]
    missed: list[str] = []
    print(
        "| scenario | victim requests | victim errors | victim p50 ms (x unloaded) | "
        "victim p99 ms (x unloaded) | /readyz p99 ms | /v1/account p99 ms | attacker outcomes |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        p50x, p99x = row.p50 / base.p50, row.p99 / base.p99
        readyz = percentile(row.probes.readyz_ms, 0.99)
        account = percentile(row.probes.account_ms, 0.99)
        errors = sum(row.victim.errors.values())
        outcomes = " ".join(f"{k}:{v}" for k, v in sorted(row.attacker.items())) or "-"
        print(
            f"| {row.name} | {len(row.victim.latencies_ms) + errors} | {errors} | "
            f"{row.p50:.0f} ({p50x:.2f}x) | {row.p99:.0f} ({p99x:.2f}x) | {readyz:.1f} | "
            f"{account:.1f} | {outcomes} |"
        )
        letter = row.name[1] if row.name.startswith("(") else ""
        if letter in TARGETS:
            p50_target, p99_target = TARGETS[letter]
            if p50x > p50_target:
                missed.append(f"{row.name}: victim p50 {p50x:.2f}x > {p50_target}x")
            if p99x > p99_target:
                missed.append(f"{row.name}: victim p99 {p99x:.2f}x > {p99_target}x")
        for probe, value in (("/readyz", readyz), ("/v1/account", account)):
            if value > PROBE_P99_TARGET_MS:
                missed.append(f"{row.name}: {probe} p99 {value:.1f} ms > {PROBE_P99_TARGET_MS} ms")
        if errors or row.probes.errors:
            missed.append(f"{row.name}: {errors} victim errors, {row.probes.errors} probe errors")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="every scenario briefly")
    parser.add_argument("--requests", type=int, default=200, help="victim requests a scenario")
    parser.add_argument(
        "--scenarios", default="abcd", help="which attacks to run after the unloaded run"
    )
    options = parser.parse_args(argv)
    requests = 12 if options.smoke else options.requests
    model_dir = Settings().models_path
    provision.pull(find_model("u2netp", model_dir), model_dir)
    big_png = noise_png()
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory(prefix="bgone-isolation-") as scratch,
        image_host(SLOW_HOST) as host,
    ):
        data = Path(scratch)
        stack = Stack("isolation", data, model_dir, f"sqlite:///{data / 'bgone.db'}")
        upgrade(stack.database_url)
        env = {
            **os.environ,
            "BGONE_DATA_DIR": str(data),
            "BGONE_MODEL_DIR": str(model_dir),
            "BGONE_DATABASE_URL": stack.database_url,
            "BGONE_REDIS_URL": "",
            "BGONE_URL_FETCH_ALLOWED_NETWORKS": f'["{SLOW_HOST}/32"]',
        }
        port = free_port()
        server = start_bgone_serve(env, port, data / "server.log")
        base_url = f"http://127.0.0.1:{port}"
        try:
            keys = make_keys(stack)
            slow = host.drip("/slow.png")
            plan: list[tuple[str, Attack | None]] = [
                ("unloaded", None),
                ("(a) 45 slow image_urls", slow_urls(keys["slow"], slow)),
                ("(b) 16 x 25 MB uploads", large_uploads(keys["uploads"], big_png)),
                ("(c) 200/s revoked key", revoked_key(keys["revoked"])),
                ("(d) 32 x 12 MP over limit", over_the_limit(keys["limited"])),
            ]
            chosen = [(n, a) for n, a in plan if a is None or n[1] in options.scenarios]
            for name, attack in chosen:
                print(f"[{time.strftime('%H:%M:%S')}] {name}", file=sys.stderr, flush=True)
                rows.append(scenario(name, base_url, keys, requests, attack))
        finally:
            stop_process(server)
    missed = print_table(rows)
    print(
        f"\ntargets: victim p50 <= 1.3x and p99 <= 2x its unloaded figures in (a), (c), (d); "
        f"<= 2x and <= 3x in (b); /readyz and /v1/account p99 <= {PROBE_P99_TARGET_MS:g} ms; "
        f"zero victim errors"
    )
    if options.smoke:  # too few requests for a p99: only errors fail a smoke run
        missed = [line for line in missed if "errors" in line]
    print("all targets met" if not missed else "FAILED:\n" + "\n".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
