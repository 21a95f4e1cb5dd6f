"""A batch job's end, as a customer's receiver sees it: a real embedded `bgone serve` (SQLite,
its in-process consumer running both the job's items and the webhook deliveries) sends
`job.completed`, signed with the endpoint's secret, to the job's own `webhook_url`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.imagegen import encode, gradient_rgb
from tests.support.servers import stack_fixture
from tests.support.stack import Server, Stack
from tests.support.webhook_receiver import webhook_receiver

PNG = encode(gradient_rgb(48, 32), "PNG")

job_events_stack = stack_fixture("job_events_stack")


@pytest.fixture(scope="module")
def job_events_server(model_dir: Path, job_events_stack: Stack) -> Iterator[Server]:
    # The receiver listens on loopback: allowed here, refused by default.
    running = job_events_stack.start_server(url_fetch_allowed_networks="127.0.0.1/32")
    try:
        yield running
    finally:
        running.stop()


def test_a_finished_job_is_told_to_its_endpoint_signed(
    job_events_server: Server, job_events_stack: Stack
) -> None:
    key = job_events_stack.key(job_events_stack.account("business"))
    headers = {"x-api-key": key}
    with (
        webhook_receiver() as receiver,
        httpx.Client(base_url=job_events_server.base_url, headers=headers, timeout=30) as client,
    ):
        # Subscribed to another event only: a job's own endpoint hears of the job anyway.
        made = client.post(
            "/v1/webhooks", json={"url": receiver.url, "event_types": ["key.revoked"]}
        )
        assert made.status_code == 201, made.text
        receiver.secret = made.json()["data"]["secret"]
        submitted = client.post(
            "/v1/jobs",
            files=[("image_file", ("a.png", PNG, "image/png"))] * 2,
            data={"webhook_url": receiver.url, "size": "full"},
        )
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["id"]
        [got] = receiver.wait_for(1, timeout=60)
    assert got.verified is not None, "the signature did not verify with standardwebhooks"
    assert got.verified["type"] == "job.completed"
    assert got.verified["data"] == {
        "job_id": job_id,
        "status": "completed",
        "items": 2,
        "succeeded": 2,
        "failed": 0,
        "credits_charged": 2.0,
    }
