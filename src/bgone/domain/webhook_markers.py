"""Events sent once per period: the first caller to insert the marker sends it.

`credits.low` once per credit period, `rate_limit.exceeded` once per hour, each key's 7-day
and 1-day `key.expiring` notices once: the primary key (account, marker) decides across
replicas and consumers, as periodic claims do for slots.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bgone.db.tables import WebhookMarkerRow


def first_time(session: Session, account_id: int, marker: str, now: datetime) -> bool:
    """True when no one has set this marker yet (the caller must send the event)."""
    try:
        with session.begin_nested():
            session.add(WebhookMarkerRow(account_id=account_id, marker=marker, at=now))
    except IntegrityError:
        return False
    return True
