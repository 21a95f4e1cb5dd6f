"""Webhooks in the fast tier: real SQLite and PostgreSQL, a recording queue, a scripted
sender and a clock the test moves (the real queue and receiver: tests/integration/webhooks)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from huey import Huey
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import WebhookSecretRow
from bgone.domain import api_keys
from bgone.domain.clock import utc_now
from bgone.domain.roles import GRANTS, KeyScope, Role
from bgone.domain.webhook_deliveries import RETRY_DELAYS, DeliveryState
from bgone.domain.webhook_endpoints import signing_secrets
from bgone.domain.webhook_events import EventType
from bgone.errors import InsufficientRole, InvalidEventType, InvalidWebhookUrl, NotFound
from bgone.security.hashing import SecretRing
from bgone.services.keys import KeyActor
from bgone.services.webhook_delivery import DISABLE_AFTER, LOST_AFTER, DeliveryAttempts
from bgone.services.webhook_events import EventPublisher
from bgone.services.webhook_fanout import EventFanOut
from bgone.services.webhook_tasks import HandlersMissing, WebhookTasks
from bgone.services.webhooks import EndpointUpdate, WebhookService
from tests.unit.domain.support import NOW, MakeAccount
from tests.unit.services.webhook_support import MovableClock, RecordingQueue, ScriptedSender

RING = SecretRing.from_secrets("webhook-test-secret")
URL = "https://hooks.example.com/bgone"


class Parts:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        # Now, not a fixed date: the package's verify refuses timestamps 5 minutes away.
        self.clock = MovableClock(utc_now())
        self.queue = RecordingQueue()
        self.sender = ScriptedSender()
        self.service = WebhookService(sessions, sessions, RING, self.queue, clock=self.clock)
        self.fanout = EventFanOut(sessions, self.queue, self.clock)
        self.attempts = DeliveryAttempts(sessions, RING, self.sender, self.queue, clock=self.clock)


@pytest.fixture
def parts(sessions: SessionFactory) -> Parts:
    return Parts(sessions)


def owner(account_id: int) -> KeyActor:
    return KeyActor(account_id, "dashboard:owner@example.com", granted=GRANTS[Role.OWNER])


def test_create_shows_a_secret_that_verifies_and_is_not_stored_in_clear(
    parts: Parts, make_account: MakeAccount
) -> None:
    account = make_account()
    made = parts.service.create(owner(account.id), URL, ["key.revoked"])
    assert made.secret.startswith("whsec_")
    parts.fanout.fan_out(account.id, "key.revoked", {"key_id": "key_x"}, "")
    [(delivery_id, delay)] = parts.queue.attempts
    assert delay == 0
    parts.attempts.attempt(delivery_id)
    [(url, body, headers)] = parts.sender.sent
    assert url == URL
    assert Webhook(made.secret).verify(body, headers)["data"] == {"key_id": "key_x"}
    assert json.loads(body)["type"] == "key.revoked"
    with transaction(parts.sessions) as session:
        stored = list(session.scalars(select(WebhookSecretRow.sealed)))
    assert stored and all(made.secret not in value for value in stored)


def test_only_owners_admins_and_manage_keys_manage_webhooks(
    parts: Parts, make_account: MakeAccount
) -> None:
    account = make_account()
    for caller in (Role.OWNER, Role.ADMIN, KeyScope.MANAGE):
        by = KeyActor(account.id, "t", granted=GRANTS[caller])
        assert parts.service.list_endpoints(by) == []
    for caller in (Role.DEVELOPER, Role.VIEWER, KeyScope.REMOVE):
        by = KeyActor(account.id, "t", granted=GRANTS[caller])
        with pytest.raises(InsufficientRole):
            parts.service.create(by, URL, ["key.revoked"])


def test_another_accounts_endpoint_is_not_found(parts: Parts, make_account: MakeAccount) -> None:
    a, b = make_account(), make_account()
    made = parts.service.create(owner(a.id), URL, ["key.revoked"])
    with pytest.raises(NotFound):
        parts.service.get(owner(b.id), made.endpoint.id)
    with pytest.raises(NotFound):
        parts.service.delete(owner(b.id), made.endpoint.id)
    assert parts.service.endpoint_for_url(b.id, URL) is None
    found = parts.service.endpoint_for_url(a.id, URL)
    assert found is not None and found.id == made.endpoint.id


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "https://user:pw@example.com/",
        "https:///nohost",
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest",
        "https://example.com/#frag",
    ],
)
def test_bad_urls_are_refused_with_their_code(
    parts: Parts, make_account: MakeAccount, url: str
) -> None:
    with pytest.raises(InvalidWebhookUrl):
        parts.service.create(owner(make_account().id), url, ["key.revoked"])


def test_unknown_or_no_event_types_are_refused(parts: Parts, make_account: MakeAccount) -> None:
    by = owner(make_account().id)
    with pytest.raises(InvalidEventType):
        parts.service.create(by, URL, ["key.exploded"])
    with pytest.raises(InvalidEventType):
        parts.service.create(by, URL, [])


def test_back_off_schedule_then_failed(parts: Parts, make_account: MakeAccount) -> None:
    account = make_account()
    parts.service.create(owner(account.id), URL, ["key.revoked"])
    parts.fanout.fan_out(account.id, "key.revoked", {}, "")
    delivery_id = parts.queue.attempts[0][0]
    parts.sender.statuses = [500] * 20
    delays = []
    for _ in range(len(RETRY_DELAYS) + 1):
        parts.queue.attempts.clear()
        parts.attempts.attempt(delivery_id)
        delays.extend(delay for _, delay in parts.queue.attempts)
        if parts.queue.attempts:
            parts.clock.advance(timedelta(seconds=parts.queue.attempts[0][1]))
    assert delays == [delay.total_seconds() for delay in RETRY_DELAYS]
    assert timedelta(hours=23) < sum(RETRY_DELAYS, timedelta()) <= timedelta(hours=24)
    [logged] = parts.service.deliveries(
        owner(account.id), parts.service.list_endpoints(owner(account.id))[0].id
    )
    assert logged.state == DeliveryState.FAILED
    assert logged.attempts == len(RETRY_DELAYS) + 1
    assert logged.last_status == 500
    assert logged.response_excerpt is not None and len(logged.response_excerpt) == 1024
    # Nothing more is attempted.
    assert parts.attempts.attempt(delivery_id) is None


def test_three_days_of_failures_disable_the_endpoint(
    parts: Parts, make_account: MakeAccount
) -> None:
    account = make_account()
    endpoint = parts.service.create(owner(account.id), URL, ["key.revoked"]).endpoint
    parts.sender.statuses = [None] * 100
    for day in range(4):
        parts.queue.attempts.clear()
        parts.fanout.fan_out(account.id, "key.revoked", {"day": day}, "")
        parts.attempts.attempt(parts.queue.attempts[-1][0])
        current = parts.service.get(owner(account.id), endpoint.id)
        assert current.enabled is (day < 3), day
        parts.clock.advance(DISABLE_AFTER / 3)
    assert current.disabled_reason and "3 days" in current.disabled_reason
    # Disabled: no new deliveries, the pending ones cancelled.
    parts.queue.attempts.clear()
    assert parts.fanout.fan_out(account.id, "key.revoked", {}, "") == []
    states = {d.state for d in parts.service.deliveries(owner(account.id), endpoint.id)}
    assert DeliveryState.PENDING not in states
    # Enabled again by a person: the failure clock restarts.
    again = parts.service.update(owner(account.id), endpoint.id, EndpointUpdate(enabled=True))
    assert again.enabled and again.failing_since is None and again.disabled_reason is None


def test_a_success_resets_the_failure_clock(parts: Parts, make_account: MakeAccount) -> None:
    account = make_account()
    endpoint = parts.service.create(owner(account.id), URL, ["key.revoked"]).endpoint
    parts.sender.statuses = [500, 200, 500]
    for _ in range(3):
        parts.queue.attempts.clear()
        parts.fanout.fan_out(account.id, "key.revoked", {}, "")
        parts.attempts.attempt(parts.queue.attempts[-1][0])
        parts.clock.advance(DISABLE_AFTER * 2)
    assert parts.service.get(owner(account.id), endpoint.id).enabled


def test_rotation_signs_with_both_secrets_until_the_overlap_ends(
    parts: Parts, make_account: MakeAccount
) -> None:
    account = make_account()
    made = parts.service.create(owner(account.id), URL, ["key.revoked"])
    rotated = parts.service.rotate_secret(owner(account.id), made.endpoint.id, timedelta(hours=1))
    assert rotated.secret != made.secret

    def deliver_one() -> tuple[str, dict[str, str]]:
        parts.queue.attempts.clear()
        parts.fanout.fan_out(account.id, "key.revoked", {}, "")
        parts.attempts.attempt(parts.queue.attempts[-1][0])
        _, body, headers = parts.sender.sent[-1]
        return body, headers

    body, headers = deliver_one()
    assert len(headers["webhook-signature"].split()) == 2
    Webhook(made.secret).verify(body, headers)
    Webhook(rotated.secret).verify(body, headers)
    # The overlap ends: the old secret no longer signs (ended ones are deleted).
    with transaction(parts.sessions) as session:
        later = parts.clock.now + timedelta(hours=2)
        assert signing_secrets(session, made.endpoint.id, RING, later) == [rotated.secret]
    # A rotation without overlap ends the others at once.
    third = parts.service.rotate_secret(owner(account.id), made.endpoint.id, timedelta(0))
    body, headers = deliver_one()
    assert len(headers["webhook-signature"].split()) == 1
    Webhook(third.secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(rotated.secret).verify(body, headers)


def test_redeliver_sends_the_same_message_again(parts: Parts, make_account: MakeAccount) -> None:
    account = make_account()
    endpoint = parts.service.create(owner(account.id), URL, ["key.revoked"]).endpoint
    parts.fanout.fan_out(account.id, "key.revoked", {"n": 1}, "")
    first = parts.queue.attempts[0][0]
    parts.attempts.attempt(first)
    again = parts.service.redeliver(owner(account.id), endpoint.id, first)
    assert parts.queue.attempts[-1] == (again, 0)
    parts.attempts.attempt(again)
    (_, body1, h1), (_, body2, h2) = parts.sender.sent
    assert body1 == body2 and h1["webhook-id"] == h2["webhook-id"]
    assert len(parts.service.deliveries(owner(account.id), endpoint.id)) == 2
    with pytest.raises(NotFound):
        parts.service.redeliver(owner(make_account().id), endpoint.id, first)


def test_markers_send_once_per_period(parts: Parts, make_account: MakeAccount) -> None:
    account = make_account()
    parts.service.create(owner(account.id), URL, ["rate_limit.exceeded"])
    assert parts.fanout.fan_out(account.id, "rate_limit.exceeded", {}, "rl:1")
    assert not parts.fanout.fan_out(account.id, "rate_limit.exceeded", {}, "rl:1")
    assert parts.fanout.fan_out(account.id, "rate_limit.exceeded", {}, "rl:2")


def test_credits_low_once_per_period_below_the_threshold(
    parts: Parts, make_account: MakeAccount
) -> None:
    account = make_account("business")
    by = owner(account.id)
    parts.service.create(by, URL, ["credits.low"])
    assert parts.fanout.check_credits(account.id) == []  # no threshold: never
    parts.service.set_credits_low_threshold(by, "1000000")
    assert parts.service.credits_low_threshold(account.id) == 1_000_000
    assert len(parts.fanout.check_credits(account.id)) == 1
    assert parts.fanout.check_credits(account.id) == []  # once per period
    parts.clock.advance(timedelta(days=40))
    assert len(parts.fanout.check_credits(account.id)) == 1  # the next period
    parts.service.set_credits_low_threshold(by, "")
    assert parts.service.credits_low_threshold(account.id) is None


def test_key_expiring_7_days_and_1_day_before_each_once(
    parts: Parts, make_account: MakeAccount
) -> None:
    account = make_account()
    parts.service.create(owner(account.id), URL, ["key.expiring"])
    with transaction(parts.sessions) as session:
        api_keys.create_key(
            session, account.id, "expiring", "production", "t", RING, now=NOW,
            expires_at=NOW + timedelta(days=10),
        )  # fmt: skip
    seen = []

    def scan_at(offset: timedelta) -> int:
        parts.clock.now = NOW + offset
        return parts.fanout.scan_expiring_keys()

    for hours in range(0, 10 * 24, 6):
        if scan_at(timedelta(hours=hours, minutes=1)):
            seen.append(hours)
    assert seen == [3 * 24, 9 * 24]  # 7 days, then 1 day, before day 10
    endpoint = parts.service.list_endpoints(owner(account.id))[0]
    logged = parts.service.deliveries(owner(account.id), endpoint.id)
    notices = [json.loads(delivery.payload)["data"]["days_before"] for delivery in logged]
    assert notices == [1, 7]  # newest first
    # The same slot twice (two consumers' schedulers) scans once.
    assert scan_at(timedelta(hours=1)) == 0
    assert scan_at(timedelta(hours=1)) == 0


def test_publishing_never_raises_when_the_queue_is_down() -> None:
    class Down(RecordingQueue):
        def fan_out(self, *args: object) -> None:  # type: ignore[override]
            raise ConnectionError("redis is down")

    EventPublisher(Down()).publish(1, EventType.KEY_REVOKED, {})


def test_rate_limit_events_are_throttled_per_account() -> None:
    queue = RecordingQueue()
    publisher = EventPublisher(queue)
    for _ in range(5):
        publisher.rate_limit_exceeded(1, "production", 60)
    publisher.rate_limit_exceeded(2, "production", 60)
    assert [call[0] for call in queue.fan_outs] == [1, 2]
    assert queue.fan_outs[0][3].startswith("rate_limit.exceeded:")


def test_a_jobs_own_endpoint_gets_the_job_event_whatever_it_subscribed(
    parts: Parts, make_account: MakeAccount
) -> None:
    account = make_account()
    by = owner(account.id)
    subscribed = parts.service.create(by, URL, ["job.completed"]).endpoint
    own_url = "https://jobs.example.com/hook"
    parts.service.create(by, own_url, ["key.revoked"])
    found = parts.service.endpoint_for_url(account.id, own_url)
    assert found is not None
    data = {"job_id": "job_1", "status": "completed"}
    made = parts.fanout.fan_out(account.id, "job.completed", data, "", found.id)
    assert len(made) == 2
    # The subscribed one is not sent twice when it is the job's own.
    assert len(parts.fanout.fan_out(account.id, "job.completed", data, "", subscribed.id)) == 1
    # Another account's endpoint id adds nothing.
    other = parts.service.create(owner(make_account().id), URL, ["key.revoked"]).endpoint
    assert len(parts.fanout.fan_out(account.id, "job.completed", data, "", other.id)) == 1


def test_the_tasks_run_on_huey(parts: Parts, make_account: MakeAccount) -> None:
    """Registered on a Huey (immediate here; real consumers: tests/integration/webhooks)."""
    huey = Huey("webhook-unit", immediate=True)
    tasks = WebhookTasks(huey)
    tasks.handle_with(
        EventFanOut(parts.sessions, tasks, parts.clock),
        DeliveryAttempts(parts.sessions, RING, parts.sender, tasks, clock=parts.clock),
    )
    account = make_account()
    made = WebhookService(parts.sessions, parts.sessions, RING, tasks, clock=parts.clock).create(
        owner(account.id), URL, ["key.revoked", "key.expiring"]
    )
    EventPublisher(tasks).publish(account.id, EventType.KEY_REVOKED, {"key_id": "k"})
    [(_, body, headers)] = parts.sender.sent
    assert Webhook(made.secret).verify(body, headers)["data"] == {"key_id": "k"}
    with transaction(parts.sessions) as session:
        api_keys.create_key(
            session, account.id, "soon", "production", "t", RING, now=parts.clock.now,
            expires_at=parts.clock.now + timedelta(hours=5),
        )  # fmt: skip
    tasks._scan_task()  # what the consumer's scheduler calls every 10 minutes
    assert json.loads(parts.sender.sent[-1][1])["data"]["days_before"] == 1


def test_without_handlers_a_task_fails_loudly() -> None:
    tasks = WebhookTasks(Huey("webhook-unbound", immediate=True))
    with pytest.raises(HandlersMissing):
        tasks._run_attempt(1)


def test_an_attempt_lost_with_its_consumer_is_queued_again_once(
    parts: Parts, make_account: MakeAccount
) -> None:
    account = make_account()
    parts.service.create(owner(account.id), URL, ["key.revoked"])
    parts.fanout.fan_out(account.id, "key.revoked", {}, "")
    [(delivery_id, _)] = parts.queue.attempts
    parts.queue.attempts.clear()
    # Its attempt is due now; a consumer took the task and died before recording anything.
    assert parts.attempts.requeue_lost() == 0  # not overdue yet
    parts.clock.advance(LOST_AFTER * 2)
    assert parts.attempts.requeue_lost() == 1
    assert parts.queue.attempts == [(delivery_id, 0.0)]
    assert parts.attempts.requeue_lost() == 0  # the slot is taken: another consumer's scan
    parts.attempts.attempt(delivery_id)  # the requeued attempt succeeds
    parts.clock.advance(LOST_AFTER * 2)
    assert parts.attempts.requeue_lost() == 0  # nothing pending any more


def test_ended_deliveries_leave_the_log_after_its_retention_pending_ones_stay(
    parts: Parts, make_account: MakeAccount
) -> None:
    account = make_account()
    endpoint = parts.service.create(owner(account.id), URL, ["key.revoked"]).endpoint
    parts.fanout.fan_out(account.id, "key.revoked", {"n": 1}, "")
    [(delivered, _)] = parts.queue.attempts
    parts.attempts.attempt(delivered)  # succeeds: ended
    parts.clock.advance(timedelta(days=1))
    parts.fanout.fan_out(account.id, "key.revoked", {"n": 2}, "")
    parts.sender.statuses = [None] * 100  # this one keeps failing: still pending
    parts.attempts.attempt(parts.queue.attempts[-1][0])
    # A day before its retention ends for the first, then past it.
    parts.clock.advance(parts.attempts.log_retention - timedelta(days=2))
    assert parts.attempts.prune_log() == 0  # the first is not old enough yet
    parts.clock.advance(timedelta(days=1, hours=1))
    assert parts.attempts.prune_log() == 1
    assert parts.attempts.prune_log() == 0  # the slot is taken: another consumer's pass
    [kept] = parts.service.deliveries(owner(account.id), endpoint.id)
    assert kept.state == DeliveryState.PENDING
