"""A periodic task's slot is run by one consumer: the one whose insert of the slot wins.

Huey's scheduler runs in every consumer, so with three workers a crontab task is enqueued
three times a minute. The primary key (task, slot) makes the database the referee; old
claims are pruned by the same call, a few at a time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bgone.db.tables import PeriodicClaimRow

# Claims older than this are deleted: a slot is never claimed again once it is this old.
KEEP_CLAIMS = timedelta(days=2)


def slot_of(moment: datetime, period: timedelta) -> str:
    """The slot a moment falls in: periods counted from the epoch, so every process agrees."""
    seconds = int(period.total_seconds())
    return str(int(moment.timestamp()) // seconds * seconds)


def claim(session: Session, task_name: str, slot: str, now: datetime) -> bool:
    """True when this caller is the first to claim the slot (and so must run it)."""
    try:
        with session.begin_nested():
            session.add(PeriodicClaimRow(task_name=task_name, slot=slot, claimed_at=now))
    except IntegrityError:
        return False
    session.execute(
        delete(PeriodicClaimRow).where(
            PeriodicClaimRow.task_name == task_name,
            PeriodicClaimRow.claimed_at < now - KEEP_CLAIMS,
        )
    )
    return True
