"""Reliability benchmark: load, dependency faults, bad input and the decode fuzz, with the
invariants of issue 6 checked after each.

    python -m bench.reliability               # a few minutes: 2 min of load, then the rest
    python -m bench.reliability --duration 30 # shorter load
    python -m bench.reliability --smoke       # every scenario briefly (what CI runs)

Everything runs on 127.0.0.1: a private PostgreSQL cluster and Redis, two `bgone serve`
replicas and nginx in front (tests/support/services.py and nginx.py, deploy/nginx.conf); every
process it starts is stopped by its pid. It prints one table (scenario, requests, outcomes by
status, invariant and scenario checks passed), then `/v2/health` p99 under load and each
replica's peak resident memory against its cap. It exits non-zero when any check fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.support.invariants import InvariantReport
from tests.support.traffic import wait_for_invariants

from bench.reliability_deploy import deployment
from bench.reliability_faults import ScenarioResult, Timing, fault_scenarios
from bench.reliability_inputs import run_battery, run_fuzz
from bench.reliability_load import LoadResult, make_accounts, run_load
from bgone.inference import provision
from bgone.inference.catalog import find_model
from bgone.settings import Settings

HEALTH_P99_TARGET_MS = 100.0
MIN_PROBES_FOR_P99 = 500
SCENARIOS = ("load", "battery", "faults", "fuzz")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def load_scenario(
    result: LoadResult, invariants: InvariantReport, rss_cap_mb: float
) -> tuple[ScenarioResult, list[str]]:
    checks = InvariantReport()
    p99 = percentile(result.health_ms, 0.99)
    if len(result.health_ms) >= MIN_PROBES_FOR_P99:  # a --smoke run has too few for a p99
        checks.expect(
            p99 < HEALTH_P99_TARGET_MS, f"/v2/health p99 {p99:.1f} ms >= {HEALTH_P99_TARGET_MS} ms"
        )
    checks.expect(result.health_errors == 0, f"{result.health_errors} failed health probes")
    lines = [
        f"/v2/health under load (through nginx, {len(result.health_ms)} probes): "
        f"p50 {statistics.median(result.health_ms or [0]):.1f} ms, p99 {p99:.1f} ms "
        f"(target < {HEALTH_P99_TARGET_MS:g} ms)"
    ]
    lines.append(f"load error codes: {describe(result.error_codes)}")
    for number, (port, peak) in enumerate(sorted(result.peak_rss_mb.items()), start=1):
        checks.expect(peak <= rss_cap_mb, f"replica {number} peaked at {peak:.0f} MiB")
        lines.append(
            f"replica {number} (port {port}) peak RSS {peak:.0f} MiB, cap {rss_cap_mb:.0f} MiB"
        )
    return ScenarioResult("load", result.outcomes, invariants, checks), lines


def describe(outcomes: Counter[str]) -> str:
    return " ".join(f"{label}:{count}" for label, count in sorted(outcomes.items()))


def tally(report: InvariantReport) -> str:
    return f"{report.passed}/{report.checked}" if report.checked else "-"


def print_table(results: list[ScenarioResult]) -> None:
    print("| scenario | requests | outcomes by status | invariant checks | scenario checks |")
    print("| --- | ---: | --- | ---: | ---: |")
    for result in results:
        print(
            f"| {result.name} | {result.requests} | {describe(result.outcomes)} | "
            f"{tally(result.invariants)} | {tally(result.checks)} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="every scenario briefly")
    parser.add_argument("--duration", type=float, default=120.0, help="load seconds")
    parser.add_argument("--clients", type=int, default=32, help="concurrent load clients")
    parser.add_argument("--fuzz-seconds", type=float, default=45.0)
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--rss-cap-mb",
        type=float,
        default=1024.0,
        help="memory each replica is given (a container or systemd MemoryMax limit)",
    )
    options = parser.parse_args(argv)
    chosen = set(options.scenarios.split(","))
    if not chosen <= set(SCENARIOS):
        parser.error(f"unknown scenarios: {sorted(chosen - set(SCENARIOS))}")
    duration = 4.0 if options.smoke else options.duration
    fuzz_seconds = 2.0 if options.smoke else options.fuzz_seconds
    timing = Timing(1.0, 1.5, 0.5) if options.smoke else Timing(3.0, 5.0, 2.0)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    model_dir = Settings().models_path
    provision.pull(find_model("u2netp", model_dir), model_dir)
    results: list[ScenarioResult] = []
    load_lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bgone-reliability-") as scratch:
        if chosen & {"load", "battery", "faults"}:
            log("starting PostgreSQL, Redis, two replicas and nginx")
            with deployment(Path(scratch), model_dir) as deployed:
                if "load" in chosen:
                    log(f"load: {options.clients} clients for {duration:g} s")
                    accounts = make_accounts(deployed)
                    loaded = run_load(deployed, accounts, options.clients, duration)
                    invariants = wait_for_invariants(
                        loaded.ledger, deployed.stack.sessions, accounts.ids
                    )
                    load_result, load_lines = load_scenario(loaded, invariants, options.rss_cap_mb)
                    results.append(load_result)
                if "battery" in chosen:
                    log("bad-input battery")
                    results.append(run_battery(deployed, options.smoke))
                if "faults" in chosen:
                    log("faults: PostgreSQL, Redis, SIGTERM, SIGKILL")
                    results.extend(fault_scenarios(deployed, timing))
    if "fuzz" in chosen:
        log(f"decode fuzz for {fuzz_seconds:g} s")
        results.append(run_fuzz(fuzz_seconds))

    print_table(results)
    print()
    for line in load_lines:
        print(line)
    failures = [
        failure
        for result in results
        for failure in (*result.invariants.failures, *result.checks.failures)
    ]
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
