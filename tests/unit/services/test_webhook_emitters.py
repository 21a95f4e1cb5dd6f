"""The use cases that cause events enqueue them (and only enqueue): a revoked key, a leaked
key, a rate-limited removal, a charge (the credits check). What the consumer does with them:
test_webhooks.py and tests/integration/webhooks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import api_keys
from bgone.errors import RateLimitExceeded
from bgone.infra.ratelimit import LimitsRateLimiter
from bgone.security.hashing import SecretRing
from bgone.services.keys import KeyActor, KeyService
from bgone.services.leaks import LeakReports, ReportedKey
from bgone.services.webhook_events import EventPublisher
from tests.unit.domain.support import MakeAccount
from tests.unit.fakes import Ledger
from tests.unit.services.support import RecordingKeyCache
from tests.unit.services.test_removal import MakeCaller, MakeParts, request, run
from tests.unit.services.webhook_support import RecordingQueue


def test_revoking_a_key_enqueues_key_revoked(
    sessions: SessionFactory, ring: SecretRing, make_account: MakeAccount
) -> None:
    queue = RecordingQueue()
    keys = KeyService(sessions, sessions, ring, RecordingKeyCache(), events=EventPublisher(queue))
    account = make_account()
    actor = KeyActor(account.id, "dashboard:owner@example.com")
    issued = keys.create(actor, "shop", "production")
    keys.revoke(actor, issued.record.id)
    [(account_id, event_type, data, marker)] = queue.fan_outs
    assert (account_id, event_type, marker) == (account.id, "key.revoked", "")
    assert data["key_id"] == issued.record.id and data["revoked_by"] == actor.actor


def test_a_leak_report_enqueues_key_leaked(
    sessions: SessionFactory, ring: SecretRing, make_account: MakeAccount
) -> None:
    queue = RecordingQueue()
    leaks = LeakReports(
        sessions, sessions, ring, RecordingKeyCache(), LimitsRateLimiter("memory://"), 30,
        events=EventPublisher(queue),
    )  # fmt: skip
    account = make_account()
    with transaction(sessions) as session:
        issued = api_keys.create_key(session, account.id, "app", "production", "tests", ring)
    leaks.report([ReportedKey(issued.secret)], "192.0.2.1")
    [(account_id, event_type, data, _)] = queue.fan_outs
    assert (account_id, event_type) == (account.id, "key.leaked")
    assert data == {**data, "key_id": issued.record.id, "outcome": "revoked"}


def test_a_rate_limited_removal_tells_once_an_hour(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    queue = RecordingQueue()
    publisher = EventPublisher(queue)
    parts, caller = make_parts(), make_caller(rate_per_minute=1)
    told = lambda who: publisher.rate_limit_exceeded(  # noqa: E731
        who.account_id, who.environment.value, who.rate_per_minute
    )
    parts.service = replace(parts.service, on_rate_limited=told)
    run(parts, request(caller), Ledger())
    for _ in range(3):
        with pytest.raises(RateLimitExceeded):
            run(parts, request(caller), Ledger())
    [(account_id, event_type, data, marker)] = queue.fan_outs
    assert (account_id, event_type) == (caller.account_id, "rate_limit.exceeded")
    assert data["limit_per_minute"] == 1 and marker.startswith("rate_limit.exceeded:")


def test_charges_enqueue_a_throttled_credits_check() -> None:
    queue = RecordingQueue()
    publisher = EventPublisher(queue)
    for _ in range(5):
        publisher.credits_charged(7)
    # One check now, one at the end of the window for the charges after it; no more.
    assert queue.credit_checks == [(7, 0.0), (7, 30.0)]
