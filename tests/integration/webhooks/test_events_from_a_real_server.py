"""An event from a real `bgone serve` (SQLite; PostgreSQL with Redis): revoking a key through
the API enqueues on the server's own task queue, and a consumer in this process (the same
storage, as `bgone worker` would have) delivers it, signed, to a receiver on loopback."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
from huey import Huey

from bgone.domain.roles import GRANTS, Role
from bgone.infra.task_queue import ConsumerPlan, build_consumer, build_task_queue
from bgone.infra.url_fetch import parse_networks
from bgone.infra.webhook_sender import WebhookSender
from bgone.security.hashing import load_secret_ring
from bgone.services.keys import KeyActor
from bgone.services.webhook_delivery import DeliveryAttempts
from bgone.services.webhook_fanout import EventFanOut
from bgone.services.webhook_tasks import WebhookTasks
from bgone.services.webhooks import WebhookService
from tests.support.servers import POSTGRES_REDIS, SQLITE, server_fixtures
from tests.support.stack import Server, Stack
from tests.support.webhook_receiver import Receiver, webhook_receiver

LOOPBACK = parse_networks(["127.0.0.0/8"])
# Only this test's consumer takes the server's tasks: an embedded `bgone serve` consumes too,
# and its attempt at the loopback receiver (not an allowed address for it) raced this one's,
# leaving the delivery to a retry after the test's wait (seen in CI: 0 deliveries in 30 s).
events_stack, events_server = server_fixtures(
    "events", kinds=(SQLITE, POSTGRES_REDIS), serve_jobs="off"
)


def subscribed_receiver(stack: Stack, account: int) -> tuple[Huey, WebhookService]:
    """The server's task queue, with webhook handlers bound as a consumer's would be, and a
    webhook service on the same storage (the server's ring: it seals and we open)."""
    ring = load_secret_ring(stack.settings)
    queue = build_task_queue(stack.settings)
    tasks = WebhookTasks(queue)
    tasks.handle_with(
        EventFanOut(stack.sessions, tasks),
        DeliveryAttempts(stack.sessions, ring, WebhookSender(5.0, LOOPBACK), tasks),
    )
    return queue, WebhookService(stack.sessions, stack.sessions, ring, tasks, LOOPBACK)


def delivered_once(queue: Huey, receiver: Receiver) -> dict[str, Any]:
    """Run a consumer until the receiver has one delivery; its verified event."""
    consumer = build_consumer(queue, ConsumerPlan(workers=2, poll_seconds=0.1, periodic=False))
    consumer.start()
    try:
        [got] = receiver.wait_for(1)
    finally:
        consumer.stop(graceful=True)
    assert got.verified is not None, "the signature did not verify"
    assert got.verified["type"] == "key.revoked"
    return got.verified


def new_key_id(server: Server, manage_key: str) -> str:
    headers = {"x-api-key": manage_key}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
        return str(client.post("/api/keys", json={"name": "doomed"}).json()["data"]["id"])


def test_a_revocation_through_the_api_is_delivered(
    events_server: Server, events_stack: Stack
) -> None:
    server, stack = events_server, events_stack
    account = stack.account("business")
    manage_key = stack.key(account)
    queue, service = subscribed_receiver(stack, account)
    owner = KeyActor(account, "tests", granted=GRANTS[Role.OWNER])
    with webhook_receiver() as receiver:
        receiver.secret = service.create(owner, receiver.url, ["key.revoked"]).secret
        key_id = new_key_id(server, manage_key)
        headers = {"x-api-key": manage_key}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
            assert client.delete(f"/api/keys/{key_id}").status_code == 200
        event = delivered_once(queue, receiver)
    assert event["data"]["key_id"] == key_id
    assert event["data"]["revoked_by"].startswith("key:key_")  # the manage key


def test_a_revocation_by_the_operator_cli_is_delivered(
    events_server: Server, events_stack: Stack
) -> None:
    """`bgone keys revoke` enqueues key.revoked on the deployment's queue, as the API does."""
    server, stack = events_server, events_stack
    account = stack.account("business")
    queue, service = subscribed_receiver(stack, account)
    owner = KeyActor(account, "tests", granted=GRANTS[Role.OWNER])
    with webhook_receiver() as receiver:
        receiver.secret = service.create(owner, receiver.url, ["key.revoked"]).secret
        key_id = new_key_id(server, stack.key(account))
        revoked = subprocess.run(
            [sys.executable, "-m", "bgone", "keys", "revoke", key_id],
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert revoked.returncode == 0, revoked.stderr
        event = delivered_once(queue, receiver)
    assert event["data"]["key_id"] == key_id
    assert event["data"]["revoked_by"] == "operator (cli)"
