"""The Idempotency-Key service: the fingerprint of a parsed request, the key's syntax, which
answers are kept, the size cap and the 24 hours on an injected clock (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from bgone.db.engine import SessionFactory
from bgone.domain.idempotency import KEEP, Claim, StoredAnswer
from bgone.errors import IdempotencyAnswerTooLarge, InvalidIdempotencyKey
from bgone.services.idempotency import IdempotencyService, fingerprint, is_kept, parse_key
from tests.unit.domain.support import NOW, MakeAccount

PHOTO = b"\x89PNG pretend photo"
ANSWER = StoredAnswer(200, (("content-type", "image/png"),), b"0123456789")


def test_the_fingerprint_is_of_the_parsed_request_not_its_encoding() -> None:
    same = fingerprint("POST /v2 binary", {"size": "full", "crop": "true"}, {"image": PHOTO})
    reordered = fingerprint("POST /v2 binary", {"crop": "true", "size": "full"}, {"image": PHOTO})
    assert same == reordered and len(same) == 64
    others = {
        fingerprint("POST /v2 json", {"size": "full", "crop": "true"}, {"image": PHOTO}),
        fingerprint("POST /v2 binary", {"size": "hd", "crop": "true"}, {"image": PHOTO}),
        fingerprint("POST /v2 binary", {"size": "full", "crop": "true"}, {"image": PHOTO + b"!"}),
        fingerprint("POST /v2 binary", {"size": "full", "crop": "true"}, {"bg_image": PHOTO}),
        fingerprint("POST /v2 binary", {"size": "full"}, {"image": PHOTO}),
    }
    assert same not in others and len(others) == 5


def test_keys_are_printable_ascii_up_to_255_characters() -> None:
    assert parse_key(None) is None
    assert parse_key("  3f1c-order 42  ") == "3f1c-order 42"
    assert parse_key("k" * 255) == "k" * 255
    for bad in ("", "   ", "k" * 256, "caf\u00e9", "tab\there"):
        with pytest.raises(InvalidIdempotencyKey):
            parse_key(bad)


def test_rate_limits_and_server_failures_are_not_kept() -> None:
    assert [status for status in (200, 400, 402, 404, 413, 415, 422) if is_kept(status)] == [
        200,
        400,
        402,
        404,
        413,
        415,
        422,
    ]
    assert not any(is_kept(status) for status in (429, 500, 503))


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def claim_of(outcome: Claim | StoredAnswer) -> Claim:
    assert isinstance(outcome, Claim), outcome
    return outcome


def test_answers_are_kept_24_hours_on_the_clock(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    clock = Clock()
    service = IdempotencyService(sessions, max_answer_bytes=10, clock=clock)
    account = make_account().id

    async def scenario() -> None:
        claim = claim_of(await service.begin(account, "k1", "f"))
        await service.finish(claim, ANSWER)
        clock.now = NOW + KEEP - timedelta(microseconds=1)
        assert await service.begin(account, "k1", "f") == ANSWER
        clock.now = NOW + KEEP
        claim_of(await service.begin(account, "k1", "a new request after the 24 hours"))

    asyncio.run(scenario())


def test_a_429_frees_the_key_and_an_answer_over_the_cap_is_refused_not_rerun(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    service = IdempotencyService(sessions, max_answer_bytes=9, clock=Clock())
    account = make_account().id

    async def scenario() -> None:
        await service.finish(
            claim_of(await service.begin(account, "k", "f")), StoredAnswer(429, (), b"{}")
        )
        await service.finish(claim_of(await service.begin(account, "k", "f")), ANSWER)
        with pytest.raises(IdempotencyAnswerTooLarge):
            await service.begin(account, "k", "f")

    asyncio.run(scenario())
