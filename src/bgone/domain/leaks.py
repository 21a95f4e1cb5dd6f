"""Keys reported as leaked: what a real one gets, what is kept, what its owners see.

Whoever reports a key (a secret scanner, or anyone who found one) learns nothing about it:
the rules here decide what happens to the account's key, and the caller answers every report
the same way. A key is found by its digests under every server secret, whatever its state;
unknown keys leave no trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bgone.db.tables import AccountRow, ApiKeyRow, LeakReportRow
from bgone.domain import api_keys, audit
from bgone.domain.clock import now_or_default
from bgone.errors import InvalidRequest

LEAK_ACTOR = "leak report"
MAX_URL_LENGTH = 2048
MAX_SOURCE_LENGTH = 64
SHOWN_REPORTS = 20


class LeakedKeyAction(StrEnum):
    """The account's choice: a reported key stops working at once, or keeps working."""

    REVOKE = "revoke"
    WARN = "warn"  # 'warn only': flagged on the account page and in the audit log


class LeakOutcome(StrEnum):
    REVOKED = "revoked"
    FLAGGED = "flagged"
    ALREADY_REVOKED = "already_revoked"


@dataclass(frozen=True)
class LeakReport:
    id: int
    account_id: int
    key_id: str
    reported_at: datetime
    source_url: str | None
    source: str
    outcome: LeakOutcome
    dismissed_at: datetime | None


@dataclass(frozen=True)
class Handled:
    """What became of one reported key; never shown to the reporter."""

    report: LeakReport
    revoked_now: bool


def find_key(session: Session, candidates: tuple[str, ...]) -> ApiKeyRow | None:
    """The key with one of these digests, in any state, locked for the change."""
    statement = select(ApiKeyRow).where(ApiKeyRow.hash.in_(candidates)).with_for_update()
    return session.scalars(statement).one_or_none()


def handle_leak(
    session: Session,
    key: ApiKeyRow,
    source_url: str | None,
    source: str,
    reporter_ip: str | None,
    now: datetime | None = None,
) -> Handled:
    """Revoke (or, for a 'warn only' account, flag) `key`, audit it and raise the banner."""
    moment = now_or_default(now)
    choice = session.scalar(
        select(AccountRow.leaked_key_action).where(AccountRow.id == key.account_id)
    )
    if key.revoked_at is not None:
        outcome = LeakOutcome.ALREADY_REVOKED
    elif choice == LeakedKeyAction.WARN.value:
        outcome = LeakOutcome.FLAGGED
    else:
        outcome = LeakOutcome.REVOKED
    if outcome is LeakOutcome.REVOKED:
        api_keys.revoke(session, key.account_id, key.id, LEAK_ACTOR, ip=reporter_ip, now=moment)
    url = _clipped(source_url, MAX_URL_LENGTH)
    where = f" at {url}" if url else ""
    audit.record(
        session,
        key.account_id,
        audit.AuditAction.KEY_LEAK_REPORTED,
        actor=LEAK_ACTOR,
        ip=reporter_ip,
        key_id=key.id,
        detail=f"reported as leaked{where} ({source}): {outcome.value.replace('_', ' ')}",
        at=moment,
    )
    row = LeakReportRow(
        account_id=key.account_id,
        key_id=key.id,
        reported_at=moment,
        source_url=url,
        source=_clipped(source, MAX_SOURCE_LENGTH) or "plain",
        reporter_ip=reporter_ip,
        outcome=outcome.value,
    )
    session.add(row)
    session.flush()
    return Handled(_report_from_row(row), revoked_now=outcome is LeakOutcome.REVOKED)


def open_reports(session: Session, account_id: int, limit: int = SHOWN_REPORTS) -> list[LeakReport]:
    """The reports the account's owners have not dismissed yet, newest first."""
    statement = (
        select(LeakReportRow)
        .where(LeakReportRow.account_id == account_id, LeakReportRow.dismissed_at.is_(None))
        .order_by(LeakReportRow.reported_at.desc(), LeakReportRow.id.desc())
        .limit(limit)
    )
    return [_report_from_row(row) for row in session.scalars(statement)]


def dismiss(session: Session, account_id: int, report_id: int, now: datetime | None = None) -> bool:
    """Hide a banner; False when nothing was hidden (another account's report id changes
    nothing, like an unknown or an already dismissed one)."""
    result = session.execute(
        update(LeakReportRow)
        .where(
            LeakReportRow.id == report_id,
            LeakReportRow.account_id == account_id,
            LeakReportRow.dismissed_at.is_(None),
        )
        .values(dismissed_at=now_or_default(now))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def action_of(session: Session, account_id: int) -> LeakedKeyAction:
    choice = session.scalar(select(AccountRow.leaked_key_action).where(AccountRow.id == account_id))
    return LeakedKeyAction(choice or LeakedKeyAction.REVOKE.value)


def set_action(
    session: Session,
    account_id: int,
    action: LeakedKeyAction | str,
    actor: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> LeakedKeyAction:
    try:
        checked = LeakedKeyAction(action)
    except ValueError as error:
        choices = ", ".join(member.value for member in LeakedKeyAction)
        raise InvalidRequest(f"a leaked key's action is one of: {choices}") from error
    row = session.get(AccountRow, account_id, with_for_update=True)
    if row is None or row.leaked_key_action == checked.value:
        return checked
    row.leaked_key_action = checked.value
    session.flush()
    audit.record(
        session,
        account_id,
        audit.AuditAction.LEAK_SETTING_CHANGED,
        actor=actor,
        ip=ip,
        detail=(
            "keys reported as leaked are revoked at once"
            if checked is LeakedKeyAction.REVOKE
            else "keys reported as leaked are only flagged (warn only)"
        ),
        at=now,
    )
    return checked


def _clipped(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    stripped = text.strip()
    return stripped[:limit] or None


def _report_from_row(row: LeakReportRow) -> LeakReport:
    return LeakReport(
        id=row.id,
        account_id=row.account_id,
        key_id=row.key_id,
        reported_at=row.reported_at,
        source_url=row.source_url,
        source=row.source,
        outcome=LeakOutcome(row.outcome),
        dismissed_at=row.dismissed_at,
    )
