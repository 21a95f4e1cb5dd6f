"""Plan requests: a customer asks to move to a plan (saying what for); an operator approves
(the account moves) or declines, with a message the customer reads on the account page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bgone.db.tables import AccountRow, PlanRequestRow
from bgone.domain import plans
from bgone.domain.clock import now_or_default
from bgone.errors import InvalidRequest, NotFound, PlanRequestDecided, PlanRequestPending

MAX_PURPOSE_LENGTH = 2000
MAX_ANSWER_LENGTH = 2000


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


@dataclass(frozen=True)
class PlanRequest:
    id: int
    account_id: int
    account_email: str
    plan: str
    purpose: str
    requested_by: str
    requested_at: datetime
    state: RequestState
    answer: str | None
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class NewRequest:
    account_id: int
    plan: str
    purpose: str
    requested_by: str  # "dashboard:<email>"


def _checked_text(text: str, limit: int, what: str) -> str:
    cleaned = text.strip()
    if len(cleaned) > limit:
        raise InvalidRequest(f"{what} is longer than {limit} characters")
    return cleaned


def create(session: Session, new: NewRequest, now: datetime | None = None) -> PlanRequest:
    """One open request per account at a time: a second is PlanRequestPending."""
    plans.get_plan(session, new.plan)  # UnknownPlan for a name that is none
    purpose = _checked_text(new.purpose, MAX_PURPOSE_LENGTH, "what the access is for")
    if not purpose:
        raise InvalidRequest("say what you will use the API for")
    waiting = PlanRequestPending("this account already has a plan request waiting for an answer")
    if pending_for(session, new.account_id) is not None:
        raise waiting
    row = PlanRequestRow(
        account_id=new.account_id,
        plan=new.plan,
        purpose=purpose,
        requested_by=new.requested_by,
        requested_at=now_or_default(now),
        state=RequestState.PENDING.value,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as error:  # another member's request, committed meanwhile
        raise waiting from error
    return get(session, row.id)


def _query() -> Select[PlanRequestRow, str]:
    return select(PlanRequestRow, AccountRow.email).join(
        AccountRow, AccountRow.id == PlanRequestRow.account_id
    )


def _request(row: PlanRequestRow, email: str) -> PlanRequest:
    return PlanRequest(
        id=row.id,
        account_id=row.account_id,
        account_email=email,
        plan=row.plan,
        purpose=row.purpose,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        state=RequestState(row.state),
        answer=row.answer,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def get(session: Session, request_id: int) -> PlanRequest:
    found = session.execute(_query().where(PlanRequestRow.id == request_id)).first()
    if found is None:
        raise NotFound(f"no plan request {request_id}")
    return _request(*found)


def pending_for(session: Session, account_id: int) -> PlanRequest | None:
    found = session.execute(
        _query().where(
            PlanRequestRow.account_id == account_id,
            PlanRequestRow.state == RequestState.PENDING.value,
        )
    ).first()
    return _request(*found) if found else None


def latest_for(session: Session, account_id: int) -> PlanRequest | None:
    """The account's newest request, whatever its state: what its page shows."""
    found = session.execute(
        _query()
        .where(PlanRequestRow.account_id == account_id)
        .order_by(PlanRequestRow.requested_at.desc(), PlanRequestRow.id.desc())
        .limit(1)
    ).first()
    return _request(*found) if found else None


def list_requests(
    session: Session, state: RequestState | None, limit: int = 200
) -> list[PlanRequest]:
    """Oldest first for the queue (pending), newest first for the answered ones."""
    statement = _query()
    if state is not None:
        statement = statement.where(PlanRequestRow.state == state.value)
    if state is RequestState.PENDING:
        statement = statement.order_by(PlanRequestRow.requested_at, PlanRequestRow.id)
    else:
        statement = statement.order_by(PlanRequestRow.requested_at.desc(), PlanRequestRow.id.desc())
    return [_request(*found) for found in session.execute(statement.limit(limit)).all()]


@dataclass(frozen=True)
class Decision:
    request_id: int
    approve: bool
    answer: str
    decided_by: str


def decide(session: Session, decision: Decision, now: datetime | None = None) -> PlanRequest:
    """Mark the request answered (the caller moves the account when approved)."""
    row = session.get(PlanRequestRow, decision.request_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no plan request {decision.request_id}")
    if row.state != RequestState.PENDING.value:
        raise PlanRequestDecided(f"plan request {decision.request_id} was already {row.state}")
    row.state = (RequestState.APPROVED if decision.approve else RequestState.DECLINED).value
    row.answer = _checked_text(decision.answer, MAX_ANSWER_LENGTH, "the answer") or None
    row.decided_by = decision.decided_by
    row.decided_at = now_or_default(now)
    session.flush()
    return get(session, row.id)
