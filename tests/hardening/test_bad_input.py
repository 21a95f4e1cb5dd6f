"""The bad-input battery against a real `bgone serve` on SQLite: each case's status and code,
then invariants 1-3 over the whole run.

The battery is sent once per module (`battery_results`); each case is its own test id.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from PIL import Image

from bgone.errors import InvalidFileType
from bgone.inference.imageio import DecodeLimits, decode
from tests.support.case_sender import Sent, send
from tests.support.cases import SERVER_SETTINGS, Case, Encoding, all_cases
from tests.support.error_bodies import error_of
from tests.support.invariants import Ledger, assert_invariants
from tests.support.servers import server_fixtures
from tests.support.stack import Server, Stack

CASES = all_cases()


@dataclass
class BatteryRun:
    stack: Stack
    account_id: int
    ledger: Ledger
    results: dict[str, Sent]


battery_stack, battery_server = server_fixtures("battery", **SERVER_SETTINGS)


@pytest.fixture(scope="module")
def battery_results(battery_stack: Stack, battery_server: Server) -> BatteryRun:
    # Limits far above the battery's needs: no case may be refused for rate or credits.
    account_id = battery_stack.account(
        "business", rate_per_minute=100_000, monthly_credits_milli=10**9
    )
    key = battery_stack.key(account_id)
    ledger = Ledger()
    results: dict[str, Sent] = {}
    for case in CASES:
        sent = send(case, battery_server.base_url, key)
        ledger.record(sent.response)
        results[case.name] = sent
    return BatteryRun(battery_stack, account_id, ledger, results)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case: Case, battery_results: BatteryRun) -> None:
    sent = battery_results.results[case.name]
    response = sent.response
    assert response.status_code == case.status, response.text[:500]
    assert response.headers.get("x-request-id")
    if case.code is None:
        failures = case.verify(response.headers.get("content-type", ""), response.content)
        assert not failures, "; ".join(failures)
        return
    error = error_of(response)  # in the path's dialect, exactly
    assert error.request_id == response.headers["x-request-id"]
    assert error.code == case.code, error
    assert error.detail
    assert "x-credits-charged" not in response.headers  # an error costs nothing
    if case.body.encoding is Encoding.STREAM:
        # Answered long before the client ran out of body: the server stopped reading.
        assert sent.body_bytes_sent < case.body.stream_bytes // 4, sent.body_bytes_sent
    if case.body.encoding in (Encoding.STREAM, Encoding.DECLARED):
        assert sent.closed_by_server, "the server kept the connection to drain the body"


def refused_payload(case: Case) -> bytes:
    body = case.body
    if body.uploads:
        return body.uploads[-1].data  # the image, or the background where that is the bad one
    if body.encoding is Encoding.RAW:
        return body.content
    return base64.b64decode(body.document["image_base64"])


def test_refused_formats_never_reach_a_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """invalid_file_type comes from the magic bytes alone: Pillow is never asked."""

    def no_decoder(*args: object, **kwargs: object) -> Image.Image:
        raise AssertionError("a decoder was asked to open a refused format")

    monkeypatch.setattr(Image, "open", no_decoder)
    refused = [case for case in CASES if case.code == "invalid_file_type"]
    assert len(refused) >= 15
    for case in refused:
        with pytest.raises(InvalidFileType):
            decode(refused_payload(case), DecodeLimits())


def test_battery_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert {case.status for case in CASES} >= {200, 400, 413, 415}


def test_invariants_over_the_battery(battery_results: BatteryRun) -> None:
    ledger = battery_results.ledger
    assert len(ledger.seen) == len(CASES)
    # Every result was charged (and, by invariant 2, nothing else was).
    assert sum(entry.delivered for entry in ledger.seen) == ledger.statuses()[200]
    assert_invariants(ledger, battery_results.stack.sessions, [battery_results.account_id])
