"""The fault scenarios: a dependency or a replica goes away under traffic, and comes back.

Each runs `tests.support.traffic.Traffic` (client threads sending removals and account
reads through nginx) around one fault: PostgreSQL stopped and started, Redis stopped and
started, SIGTERM to one replica, SIGKILL to the other. Each replica that was stopped is
started again on its port before the next scenario. The invariants are checked per scenario
once spooled or orphaned usage rows have had their seconds to settle.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.support.invariants import InvariantReport
from tests.support.traffic import Traffic, wait_for_invariants

from bench.reliability_deploy import Deployment

RECOVERY_SECONDS = 30.0
# More than this for one request is a hang (the client's own timeout is 10 s).
HANG_SECONDS = 8.0


@dataclass(frozen=True)
class Timing:
    before: float
    fault: float
    after: float


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[], None]
    repair: Callable[[], None]
    expect_service_during_fault: bool


@dataclass
class ScenarioResult:
    name: str
    outcomes: Counter[str]
    invariants: InvariantReport  # invariants 1-4 (tests/support/invariants.py)
    checks: InvariantReport = field(default_factory=InvariantReport)  # this scenario's own

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())


def outcome_labels(traffic: Traffic) -> Counter[str]:
    labels: Counter[str] = Counter()
    for outcome in traffic.outcomes:
        if outcome.status is None:
            labels[str(outcome.error)] += 1
        else:
            labels[f"{outcome.status}{' (nginx)' if outcome.from_proxy else ''}"] += 1
    return labels


def run_fault(fault: Fault, deployed: Deployment, timing: Timing) -> ScenarioResult:
    stack = deployed.stack
    account = stack.account("business", rate_per_minute=1_000_000, monthly_credits_milli=10**9)
    traffic = Traffic(deployed.base_url, stack.key(account), removers=2, account_readers=1)
    traffic.start()
    try:
        traffic.run_phase("before", timing.before)
        traffic.phase = "fault"
        fault.inject()
        traffic.run_phase("fault", timing.fault)
        traffic.phase = "after"
        fault.repair()
        recovered = traffic.wait_for_removal("after", RECOVERY_SECONDS)
        traffic.run_phase("after", timing.after)
    finally:
        traffic.stop()
    stack.sessions.kw["bind"].dispose()  # connections from before a database restart
    invariants = wait_for_invariants(traffic.ledger, stack.sessions, [account])
    checks = InvariantReport()
    name = fault.name
    checks.expect(recovered, f"{name}: no successful removal within {RECOVERY_SECONDS} s after")
    slowest = max((o.seconds for o in traffic.outcomes), default=0.0)
    checks.expect(slowest < HANG_SECONDS, f"{name}: a request took {slowest:.1f} s (a hang)")
    if fault.expect_service_during_fault:
        served = traffic.removed_in("fault")
        checks.expect(served, f"{name}: no removal succeeded during the fault")
    return ScenarioResult(name, outcome_labels(traffic), invariants, checks)


def signal_replica(deployed: Deployment, index: int, signal_number: int) -> Callable[[], None]:
    return lambda: deployed.signal_replica(index, signal_number)


def restart_replica(deployed: Deployment, index: int, grace: float) -> Callable[[], None]:
    """Wait up to `grace` seconds for the replica to end by itself, then start it again."""

    def restart() -> None:
        process = deployed.replicas[index].server.process
        deadline = time.monotonic() + grace
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        deployed.replace(index)

    return restart


def fault_scenarios(deployed: Deployment, timing: Timing) -> list[ScenarioResult]:
    """In an order that keeps the replica faults apart: nginx sets a replica it could not
    reach aside for 5 s (deploy/nginx.conf), and the database scenarios outlast that."""
    postgres, redis_server = deployed.postgres, deployed.redis
    faults = [
        Fault(
            "SIGTERM one replica",
            signal_replica(deployed, 0, signal.SIGTERM),
            restart_replica(deployed, 0, grace=30),
            expect_service_during_fault=True,
        ),
        Fault(
            "PostgreSQL stop/start",
            postgres.stop,
            postgres.start,
            expect_service_during_fault=False,
        ),
        # Authentication and removal keep working; rate limits fall back to the replica.
        Fault(
            "Redis stop/start",
            redis_server.stop,
            redis_server.start,
            expect_service_during_fault=True,
        ),
        Fault(
            "SIGKILL one replica",
            signal_replica(deployed, 1, signal.SIGKILL),
            restart_replica(deployed, 1, grace=5),
            expect_service_during_fault=True,
        ),
    ]
    return [run_fault(fault, deployed, timing) for fault in faults]
