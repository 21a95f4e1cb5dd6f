"""Webhook deliveries end to end: real Huey consumers (SQLite file, Redis), a real receiver on
loopback verifying every signature with `standardwebhooks`, a real SMTP server for the
disabling email, and the address rules (loopback refused unless allowed)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from huey import Huey

from bgone.db.engine import SessionFactory, transaction
from bgone.domain.accounts import Account, create_account
from bgone.domain.clock import utc_now
from bgone.domain.roles import GRANTS, Role
from bgone.domain.webhook_deliveries import DeliveryState
from bgone.domain.webhook_events import EventType
from bgone.infra.mailer import Mailer
from bgone.infra.task_queue import ConsumerPlan, build_consumer, build_task_queue
from bgone.infra.url_fetch import parse_networks
from bgone.infra.webhook_sender import WebhookSender
from bgone.security.hashing import SecretRing
from bgone.services.keys import KeyActor
from bgone.services.webhook_delivery import DISABLE_AFTER, DeliveryAttempts
from bgone.services.webhook_events import EventPublisher
from bgone.services.webhook_fanout import EventFanOut
from bgone.services.webhook_tasks import WebhookTasks
from bgone.services.webhooks import WebhookService
from bgone.settings import Settings
from tests.support.db_fixtures import scratch_postgres_database
from tests.support.smtp import smtp_server
from tests.support.webhook_receiver import Receiver, webhook_receiver
from tests.unit.services.webhook_support import MovableClock

T = TypeVar("T")
RING = SecretRing.from_secrets("webhook-integration-secret")
LOOPBACK = parse_networks(["127.0.0.0/8"])
# Short delays, so a retry happens within the test; the schedule itself: tests/unit.
QUICK_RETRIES = (timedelta(seconds=0.2), timedelta(seconds=0.2))


@dataclass
class Rig:
    service: WebhookService
    publisher: EventPublisher
    account: Account
    owner: KeyActor


def new_account(sessions: SessionFactory) -> Account:
    with transaction(sessions) as session:
        return create_account(session, f"hooks-{secrets.token_hex(4)}@example.com", "business")


@contextmanager
def rig_on(huey: Huey, sessions: SessionFactory) -> Iterator[Rig]:
    """Webhook tasks on `huey`, run by a real consumer (two worker threads)."""
    tasks = WebhookTasks(huey)
    sender = WebhookSender(5.0, LOOPBACK)
    tasks.handle_with(
        EventFanOut(sessions, tasks),
        DeliveryAttempts(sessions, RING, sender, tasks, delays=QUICK_RETRIES),
    )
    consumer = build_consumer(huey, ConsumerPlan(workers=2, poll_seconds=0.1, periodic=False))
    consumer.start()
    try:
        account = new_account(sessions)
        owner = KeyActor(account.id, "tests", granted=GRANTS[Role.OWNER])
        service = WebhookService(sessions, sessions, RING, tasks, LOOPBACK)
        yield Rig(service, EventPublisher(tasks), account, owner)
    finally:
        consumer.stop(graceful=True)
        huey.flush()


def until(read: Callable[[], T], done: Callable[[T], bool], timeout: float = 20.0) -> T:
    """`read()` once `done` says so, or its last value when the time is up."""
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.05)
        value = read()
    return value


def deliver_with_one_retry(rig: Rig, receiver: Receiver) -> None:
    made = rig.service.create(rig.owner, receiver.url, ["key.revoked", "job.completed"])
    receiver.secret = made.secret
    receiver.statuses = [500]  # the first attempt fails: the retry is Huey's scheduled task
    rig.publisher.job_completed(
        rig.account.id,
        {
            "job_id": "job_1",
            "status": "completed",
            "items": 3,
            "succeeded": 2,
            "failed": 1,
            "credits_charged": 2.0,
        },
    )
    first, second = receiver.wait_for(2)
    assert first.answered == 500 and second.answered == 200
    assert second.verified is not None, "the signature did not verify"
    assert second.verified["type"] == "job.completed"
    assert second.verified["data"]["job_id"] == "job_1"
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    # The receiver has answered; the consumer records the answer right after.
    logged = until(
        lambda: rig.service.deliveries(rig.owner, made.endpoint.id)[0],
        lambda delivery: delivery.state != DeliveryState.PENDING,
    )
    assert logged.state == DeliveryState.SUCCEEDED
    assert logged.attempts == 2 and logged.last_status == 200
    assert logged.response_ms is not None and logged.response_excerpt == '{"ok": true}'


def test_sqlite_consumer_delivers_signed_events(tmp_path: Path, sessions: SessionFactory) -> None:
    huey = build_task_queue(Settings(data_dir=tmp_path))
    with webhook_receiver() as receiver, rig_on(huey, sessions) as rig:
        deliver_with_one_retry(rig, receiver)


def test_redis_consumer_delivers_signed_events(
    tmp_path: Path, sessions: SessionFactory, redis_url: str
) -> None:
    prefix = f"bgone-test-hooks-{secrets.token_hex(4)}"
    settings = Settings(data_dir=tmp_path, redis_url=redis_url, redis_key_prefix=prefix)
    with webhook_receiver() as receiver, rig_on(build_task_queue(settings), sessions) as rig:
        deliver_with_one_retry(rig, receiver)


@pytest.mark.postgres
def test_postgresql_consumer_delivers_signed_events(
    tmp_path: Path, sessions: SessionFactory, postgres_admin: object
) -> None:
    """Huey's SQL storage (through peewee): the embedded database is PostgreSQL, no Redis."""
    with scratch_postgres_database(postgres_admin) as url:  # type: ignore[arg-type]
        huey = build_task_queue(Settings(data_dir=tmp_path, database_url=url))
        with webhook_receiver() as receiver, rig_on(huey, sessions) as rig:
            deliver_with_one_retry(rig, receiver)


def test_loopback_is_refused_unless_allowed() -> None:
    with webhook_receiver() as receiver:
        for url in (receiver.url, receiver.url.replace("127.0.0.1", "localhost")):
            refused = WebhookSender(5.0).post(url, "{}", {})
            assert refused.status is None and refused.error and "refused" in refused.error
        assert receiver.received == []
        allowed = WebhookSender(5.0, LOOPBACK).post(receiver.url, "{}", {})
        assert allowed.status == 200


def test_redirects_are_not_followed(sessions: SessionFactory) -> None:
    with webhook_receiver() as receiver:
        receiver.statuses = [307]
        answer = WebhookSender(5.0, LOOPBACK).post(receiver.url, "{}", {})
        assert answer.status == 307 and not answer.succeeded
        assert len(receiver.received) == 1


def test_disabling_after_three_days_mails_the_owners(sessions: SessionFactory) -> None:
    account = new_account(sessions)
    owner = KeyActor(account.id, "tests", granted=GRANTS[Role.OWNER])
    clock = MovableClock(utc_now())
    with webhook_receiver() as receiver, smtp_server() as mailbox:
        mailer = Mailer.from_url(mailbox.url, "bgone@example.com")
        assert mailer is not None
        queued: list[int] = []

        class Later:
            def fan_out(self, *args: object) -> None: ...
            def attempt(self, delivery_id: int, delay_seconds: float = 0.0) -> None:
                queued.append(delivery_id)

            def check_credits(self, account_id: int, delay_seconds: float = 0.0) -> None: ...

        service = WebhookService(sessions, sessions, RING, Later(), LOOPBACK, clock)
        fanout = EventFanOut(sessions, Later(), clock)
        attempts = DeliveryAttempts(
            sessions,
            RING,
            WebhookSender(5.0, LOOPBACK),
            Later(),
            mailer,
            "https://bgone.test",
            clock,
        )
        endpoint = service.create(owner, receiver.url, ["key.revoked"]).endpoint
        receiver.statuses = [503] * 10
        try:
            for _ in range(4):
                fanout.fan_out(account.id, EventType.KEY_REVOKED.value, {}, "")
                attempts.attempt(queued[-1])
                clock.advance(DISABLE_AFTER / 3)
            message = mailbox.wait_for(account.email)
        finally:
            mailer.close()
    assert not service.get(owner, endpoint.id).enabled
    assert receiver.url in message.body
    assert "https://bgone.test/account/webhooks" in message.body
