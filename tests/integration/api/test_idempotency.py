"""Idempotency-Key against a real `bgone serve` with the real model, on SQLite and on
PostgreSQL + Redis: replays are the first answer's bytes and charge once, another body is a
422, a duplicate still running a 409, client errors are replayed, keys expire after 24 hours
and belong to one account, answers over the cap are refused rather than run twice; the
hardening invariants hold throughout."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import IdempotencyKeyRow, UsageRecordRow
from tests.support.error_bodies import code_of
from tests.support.imagegen import encode, gradient_rgb
from tests.support.invariants import Ledger, assert_invariants
from tests.support.servers import server_fixture
from tests.support.stack import Server, Stack

SMALL_PNG = encode(gradient_rgb(64, 48), "PNG")
IMAGE_HOST = "127.0.0.2"  # allow-listed for this module's server; 127.0.0.1 stays refused
# Small results (64x48) fit; the 267x400 person's cut-out does not.
MAX_BYTES = 40_000

idem_server = server_fixture(
    "idem_server",
    "stack",
    url_fetch_allowed_networks=f'["{IMAGE_HOST}/32"]',
    idempotency_max_bytes=str(MAX_BYTES),
)


class GatedImageHost:
    """Serves SMALL_PNG at /held.png only once `release` is set, so that a removal of it
    stays running (its key claimed) for as long as the test needs; no timing involved."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        gate = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                gate.arrived.set()
                gate.release.wait(60)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(SMALL_PNG)))
                self.end_headers()
                self.wfile.write(SMALL_PNG)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer((IMAGE_HOST, 0), Handler)
        self.url = f"http://{IMAGE_HOST}:{self.httpd.server_address[1]}/held.png"


@pytest.fixture()
def gated_host() -> Iterator[GatedImageHost]:
    host = GatedImageHost()
    thread = threading.Thread(target=host.httpd.serve_forever, daemon=True)
    thread.start()
    yield host
    host.release.set()
    host.httpd.shutdown()


@pytest.fixture()
def account(stack: Stack) -> int:
    return stack.account("business")


@pytest.fixture()
def key(stack: Stack, account: int) -> str:
    return stack.key(account)


def post(
    server: Server, key: str, idempotency_key: str, image: bytes = SMALL_PNG, **fields: str
) -> httpx.Response:
    return httpx.post(
        server.base_url + "/v1.0/removebg",
        headers={"x-api-key": key, "Idempotency-Key": idempotency_key},
        files={"image_file": ("photo.png", image)},
        data={"size": "full", **fields},
        timeout=60,
    )


def charged_rows(stack: Stack, account: int) -> list[tuple[int, int]]:
    with transaction(stack.sessions) as session:
        rows = session.execute(
            select(UsageRecordRow.status, UsageRecordRow.credits_milli)
            .where(UsageRecordRow.account_id == account, UsageRecordRow.credits_milli > 0)
            .order_by(UsageRecordRow.id)
        ).all()
    return [(status, milli) for status, milli in rows]


def test_a_replay_is_the_first_answer_byte_for_byte_and_charges_once(
    idem_server: Server, stack: Stack, account: int, key: str
) -> None:
    ledger = Ledger()
    idempotency_key = str(uuid.uuid4())
    first = ledger.record(post(idem_server, key, idempotency_key))
    replays = [ledger.record(post(idem_server, key, idempotency_key)) for _ in range(2)]

    assert first.status_code == 200, first.text
    for replay in replays:
        assert replay.status_code == 200 and replay.content == first.content
        assert replay.headers["idempotent-replayed"] == "true"
        for name in ("content-type", "x-width", "x-height", "x-credits-charged", "x-type"):
            assert replay.headers[name] == first.headers[name]
        assert replay.headers["x-request-id"] != first.headers["x-request-id"]
    assert "idempotent-replayed" not in first.headers
    assert charged_rows(stack, account) == [(200, 1000)]
    assert_invariants(ledger, stack.sessions, [account])


def test_the_same_key_with_another_body_is_a_422_and_costs_nothing(
    idem_server: Server, stack: Stack, account: int, key: str
) -> None:
    ledger = Ledger()
    ledger.record(post(idem_server, key, "reused-key"))
    other_image = ledger.record(
        post(idem_server, key, "reused-key", encode(gradient_rgb(8, 8), "PNG"))
    )
    other_field = ledger.record(post(idem_server, key, "reused-key", bg_color="white"))
    for refused in (other_image, other_field):
        assert refused.status_code == 422 and code_of(refused) == "idempotency_key_reused"
    assert charged_rows(stack, account) == [(200, 1000)]
    assert_invariants(ledger, stack.sessions, [account])


def test_a_duplicate_of_a_running_request_gets_409_then_the_answer(
    idem_server: Server, stack: Stack, account: int, key: str, gated_host: GatedImageHost
) -> None:
    ledger = Ledger()
    answers: list[httpx.Response] = []
    url_fields = {"image_url": gated_host.url, "size": "full"}

    def send() -> httpx.Response:
        return httpx.post(
            idem_server.base_url + "/v1.0/removebg",
            headers={"x-api-key": key, "Idempotency-Key": "held"},
            data=url_fields,
            timeout=60,
        )

    first = threading.Thread(target=lambda: answers.append(send()))
    first.start()
    try:
        # The server fetches the image only after it has claimed the key.
        assert gated_host.arrived.wait(30), "the server never fetched the image"
        duplicate = ledger.record(send())
    finally:
        gated_host.release.set()
        first.join(60)
    assert duplicate.status_code == 409 and code_of(duplicate) == "idempotency_key_in_use"
    assert duplicate.headers["retry-after"] == "1"
    (original,) = answers
    ledger.record(original)
    assert original.status_code == 200, original.text
    after = ledger.record(send())
    assert after.status_code == 200 and after.content == original.content
    assert after.headers["idempotent-replayed"] == "true"
    assert charged_rows(stack, account) == [(200, 1000)]
    assert_invariants(ledger, stack.sessions, [account])


def test_a_client_error_is_replayed_and_never_charged(
    idem_server: Server, stack: Stack, account: int, key: str
) -> None:
    ledger = Ledger()
    truncated = SMALL_PNG[: len(SMALL_PNG) // 2]
    answers = [ledger.record(post(idem_server, key, "broken", truncated)) for _ in range(2)]
    first, replay = answers
    assert first.status_code == 400 and code_of(first) == "failed_to_read_image", first.text
    assert replay.status_code == 400 and replay.content == first.content
    assert replay.headers["idempotent-replayed"] == "true"
    assert charged_rows(stack, account) == []
    assert_invariants(ledger, stack.sessions, [account])


def test_a_key_is_free_again_after_24_hours(
    idem_server: Server, stack: Stack, account: int, key: str
) -> None:
    ledger = Ledger()
    first = ledger.record(post(idem_server, key, "daily"))
    # The server's clock cannot be moved from here: the kept row is moved back instead.
    with transaction(stack.sessions) as session:
        (row,) = session.scalars(
            select(IdempotencyKeyRow).where(IdempotencyKeyRow.account_id == account)
        ).all()
        row.started_at -= timedelta(hours=24)
        row.expires_at -= timedelta(hours=24)
    again = ledger.record(post(idem_server, key, "daily", encode(gradient_rgb(8, 8), "PNG")))
    assert first.status_code == again.status_code == 200, again.text
    assert "idempotent-replayed" not in again.headers
    assert charged_rows(stack, account) == [(200, 1000), (200, 1000)]
    assert_invariants(ledger, stack.sessions, [account])


def test_two_accounts_using_one_key_do_not_see_each_others_answers(
    idem_server: Server, stack: Stack, account: int, key: str
) -> None:
    other_account = stack.account("business")
    other_key = stack.key(other_account)
    ledger = Ledger()
    mine = ledger.record(post(idem_server, key, "everyones-favourite-key"))
    theirs = ledger.record(
        post(idem_server, other_key, "everyones-favourite-key", encode(gradient_rgb(8, 8), "PNG"))
    )
    assert mine.status_code == theirs.status_code == 200, theirs.text
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.content != mine.content and theirs.headers["x-width"] == "8"
    assert charged_rows(stack, account) == charged_rows(stack, other_account) == [(200, 1000)]
    assert_invariants(ledger, stack.sessions, [account, other_account])


def test_an_answer_over_the_cap_is_refused_on_retry_not_run_twice(
    idem_server: Server, stack: Stack, account: int, key: str, person_jpeg: bytes
) -> None:
    ledger = Ledger()
    first = ledger.record(post(idem_server, key, "big", person_jpeg))
    retry = ledger.record(post(idem_server, key, "big", person_jpeg))
    assert first.status_code == 200 and len(first.content) > MAX_BYTES, len(first.content)
    assert retry.status_code == 409 and code_of(retry) == "idempotency_answer_too_large"
    assert charged_rows(stack, account) == [(200, 1000)]
    assert_invariants(ledger, stack.sessions, [account])


def test_another_replica_replays_the_answer(
    server: Server, idem_server: Server, stack: Stack, account: int, key: str
) -> None:
    """Two `bgone serve` processes on one database: the key's answer is kept where both see it."""
    ledger = Ledger()
    first = ledger.record(post(server, key, "across-replicas"))
    replay = ledger.record(post(idem_server, key, "across-replicas"))
    assert first.status_code == replay.status_code == 200, replay.text
    assert replay.content == first.content and replay.headers["idempotent-replayed"] == "true"
    assert charged_rows(stack, account) == [(200, 1000)]
    assert_invariants(ledger, stack.sessions, [account])


def test_simultaneous_duplicates_run_once(
    idem_server: Server, stack: Stack, account: int, key: str
) -> None:
    ledger = Ledger()
    start = threading.Barrier(6)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def send() -> None:
        start.wait(30)
        answer = post(idem_server, key, "at-once")
        with lock:
            answers.append(ledger.record(answer))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    statuses = sorted(answer.status_code for answer in answers)
    # Past the account's share (2) a request is refused before its body is read, so before
    # its key is looked at: 429. The others are the one run, its replays, or 409 while it runs.
    assert len(answers) == 6 and set(statuses) <= {200, 409, 429}, statuses
    fresh = [a for a in answers if a.status_code == 200 and "idempotent-replayed" not in a.headers]
    assert len(fresh) == 1
    assert all(a.content == fresh[0].content for a in answers if a.status_code == 200)
    assert all(code_of(a) == "idempotency_key_in_use" for a in answers if a.status_code == 409)
    assert all(code_of(a) == "concurrency_limit_exceeded" for a in answers if a.status_code == 429)
    assert charged_rows(stack, account) == [(200, 1000)]
    assert_invariants(ledger, stack.sessions, [account])
