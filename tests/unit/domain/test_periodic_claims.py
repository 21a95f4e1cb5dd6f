"""A periodic slot is claimed once, whichever consumer asks first (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bgone.db.engine import SessionFactory, transaction
from bgone.domain.periodic_claims import KEEP_CLAIMS, claim, slot_of

NOW = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)


def test_slots_are_the_same_within_a_period_and_differ_across() -> None:
    minute = timedelta(minutes=1)
    assert slot_of(NOW, minute) == slot_of(NOW + timedelta(seconds=29), minute)
    assert slot_of(NOW, minute) != slot_of(NOW + timedelta(seconds=30), minute)


def test_only_the_first_claim_of_a_slot_wins(sessions: SessionFactory) -> None:
    slot = slot_of(NOW, timedelta(hours=1))
    answers = []
    for _consumer in range(3):
        with transaction(sessions) as session:
            answers.append(claim(session, "events.hourly", slot, NOW))
    assert answers == [True, False, False]
    with transaction(sessions) as session:
        assert claim(session, "retention", slot, NOW)  # another task has slots of its own


def test_old_claims_are_pruned_by_a_later_claim(sessions: SessionFactory) -> None:
    with transaction(sessions) as session:
        assert claim(session, "prune", "1", NOW)
    later = NOW + KEEP_CLAIMS + timedelta(minutes=1)
    with transaction(sessions) as session:
        assert claim(session, "prune", "2", later)
    with transaction(sessions) as session:
        assert claim(session, "prune", "1", later)  # its old row is gone
