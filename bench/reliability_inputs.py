"""The input scenarios: the bad-input battery against a replica, and the decode fuzz.

The battery (tests/support/cases.py) is sent to one replica directly, so that each answer
is bgone's own; every case must get its expected status and error code (and a right image
for the accepted ones). The fuzz runs `tests.support.decode_fuzz` in a child process with
its address space capped, for a bounded time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
from tests.support.case_sender import send
from tests.support.cases import Case, all_cases
from tests.support.invariants import InvariantReport, Ledger
from tests.support.stack import stop_process
from tests.support.traffic import wait_for_invariants

from bench.reliability_deploy import Deployment
from bench.reliability_faults import ScenarioResult
from bench.reliability_load import error_code

REPO = Path(__file__).resolve().parents[1]
# Address space the fuzzing process may map beyond its start (its limits are 2 MP, 2 MB).
FUZZ_MEMORY_CAP_MB = 192


def judge(case: Case, answer: httpx.Response) -> str | None:
    """What is wrong with this answer to this case, or None."""
    code = error_code(answer) if answer.status_code >= 400 else None
    if (answer.status_code, code) != (case.status, case.code):
        return f"{case.name}: got {answer.status_code} {code}, expected {case.status} {case.code}"
    if answer.status_code == 200:
        problems = case.verify(answer.headers.get("content-type", ""), answer.content)
        if problems:
            return f"{case.name}: {'; '.join(problems)}"
    return None


def run_battery(deployed: Deployment, smoke: bool) -> ScenarioResult:
    stack = deployed.stack
    account = stack.account("business", rate_per_minute=1_000_000, monthly_credits_milli=10**9)
    key = stack.key(account)
    cases = all_cases()
    if smoke:
        cases = cases[::4]
    ledger = Ledger()
    outcomes: Counter[str] = Counter()
    checks = InvariantReport()
    for case in cases:
        answer = ledger.record(send(case, deployed.replicas[0].base_url, key).response)
        outcomes[str(answer.status_code)] += 1
        problem = judge(case, answer)
        checks.expect(problem is None, problem or "")
    invariants = wait_for_invariants(ledger, stack.sessions, [account])
    return ScenarioResult("bad-input battery", outcomes, invariants, checks)


def run_fuzz(seconds: float) -> ScenarioResult:
    """The decode fuzz in a child process (stopped by its pid if it overruns)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.decode_fuzz",
            "--seconds",
            str(seconds),
            "--memory-cap-mb",
            str(FUZZ_MEMORY_CAP_MB),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        output, errors = process.communicate(timeout=seconds + 120)
    finally:
        stop_process(process, grace_seconds=5)
    checks = InvariantReport()
    try:
        report = json.loads(output.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        checks.expect(False, f"decode fuzz gave no report: {errors.decode()[-2000:]}")
        return ScenarioResult("decode fuzz", Counter(), InvariantReport(), checks)
    outcomes = Counter({str(code): count for code, count in report["outcomes"].items()})
    checks.expect(not report["failures"], f"decode fuzz: {report['failures']}")
    checks.expect(process.returncode == 0, f"decode fuzz exited {process.returncode}")
    return ScenarioResult("decode fuzz", outcomes, InvariantReport(), checks)
