"""The Idempotency-Key state machine on a real database (SQLite and PostgreSQL): claim, keep,
replay, conflicts, expiry after 24 hours, abandoned claims, one account's keys per account."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import idempotency
from bgone.domain.idempotency import ABANDONED_AFTER, KEEP, Claim, KeyScope, StoredAnswer
from bgone.errors import IdempotencyAnswerTooLarge, IdempotencyKeyInUse, IdempotencyKeyReused
from tests.unit.domain.support import NOW, MakeAccount

ANSWER = StoredAnswer(200, (("content-type", "image/png"), ("x-width", "64")), b"\x89PNG\x00\xff")


def begin(
    sessions: SessionFactory,
    scope: KeyScope,
    fingerprint: str = "f1",
    after: timedelta = timedelta(),
) -> Claim | StoredAnswer:
    with transaction(sessions) as session:
        return idempotency.begin(session, scope, fingerprint, NOW + after)


def claimed(outcome: Claim | StoredAnswer) -> Claim:
    assert isinstance(outcome, Claim), outcome
    return outcome


def complete(sessions: SessionFactory, claim: Claim, answer: StoredAnswer | None) -> bool:
    with transaction(sessions) as session:
        return idempotency.complete(session, claim, answer)


@pytest.fixture
def scope(make_account: MakeAccount) -> KeyScope:
    return KeyScope.of(make_account().id, "order-1234")


def test_a_kept_answer_is_returned_to_the_same_request(
    sessions: SessionFactory, scope: KeyScope
) -> None:
    claim = claimed(begin(sessions, scope))
    assert complete(sessions, claim, ANSWER)
    assert begin(sessions, scope) == ANSWER
    assert begin(sessions, scope, after=KEEP - timedelta(seconds=1)) == ANSWER


def test_another_request_with_the_key_is_refused_in_every_state(
    sessions: SessionFactory, scope: KeyScope
) -> None:
    claim = claimed(begin(sessions, scope))
    with pytest.raises(IdempotencyKeyReused):
        begin(sessions, scope, "f2")
    complete(sessions, claim, ANSWER)
    with pytest.raises(IdempotencyKeyReused) as caught:
        begin(sessions, scope, "f2")
    assert caught.value.status == 422


def test_a_duplicate_of_a_running_request_is_told_to_wait(
    sessions: SessionFactory, scope: KeyScope
) -> None:
    claimed(begin(sessions, scope))
    with pytest.raises(IdempotencyKeyInUse) as caught:
        begin(sessions, scope)
    assert caught.value.status == 409 and caught.value.headers["Retry-After"] == "1"


def test_a_released_key_runs_again(sessions: SessionFactory, scope: KeyScope) -> None:
    first = claimed(begin(sessions, scope))
    with transaction(sessions) as session:
        idempotency.release(session, first)
    second = claimed(begin(sessions, scope, "another body: the key was never used"))
    assert second.token != first.token


def test_an_answer_too_large_to_keep_is_never_run_again(
    sessions: SessionFactory, scope: KeyScope
) -> None:
    assert complete(sessions, claimed(begin(sessions, scope)), None)
    with pytest.raises(IdempotencyAnswerTooLarge) as caught:
        begin(sessions, scope)
    assert caught.value.status == 409


def test_the_key_is_free_again_after_24_hours(sessions: SessionFactory, scope: KeyScope) -> None:
    complete(sessions, claimed(begin(sessions, scope)), ANSWER)
    again = claimed(begin(sessions, scope, "f2", after=KEEP))
    assert complete(sessions, again, StoredAnswer(400, (), b"{}"))
    assert begin(sessions, scope, "f2", after=KEEP) == StoredAnswer(400, (), b"{}")


def test_an_abandoned_claim_is_taken_over_and_the_old_owner_cannot_write(
    sessions: SessionFactory, scope: KeyScope
) -> None:
    dead = claimed(begin(sessions, scope))
    with pytest.raises(IdempotencyKeyInUse):
        begin(sessions, scope, after=ABANDONED_AFTER - timedelta(seconds=1))
    alive = claimed(begin(sessions, scope, after=ABANDONED_AFTER))
    assert not complete(sessions, dead, StoredAnswer(500, (), b"late"))
    assert complete(sessions, alive, ANSWER)
    assert begin(sessions, scope, after=ABANDONED_AFTER) == ANSWER


def test_keys_are_scoped_per_account(
    sessions: SessionFactory, scope: KeyScope, make_account: MakeAccount
) -> None:
    complete(sessions, claimed(begin(sessions, scope)), ANSWER)
    other = KeyScope.of(make_account().id, "order-1234")
    assert other.key_hash == scope.key_hash
    claimed(begin(sessions, other, "a different body is fine in another account"))


def test_expired_rows_are_purged(sessions: SessionFactory, scope: KeyScope) -> None:
    complete(sessions, claimed(begin(sessions, scope)), ANSWER)
    with transaction(sessions) as session:
        assert idempotency.purge_expired(session, NOW + KEEP - timedelta(seconds=1)) == 0
        assert idempotency.purge_expired(session, NOW + KEEP) == 1
