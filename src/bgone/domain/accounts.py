"""Accounts: who may use the platform, on which plan, with which overrides."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bgone.db.tables import EMAIL_LENGTH, AccountRow, MembershipRow, PlanRow, UserRow
from bgone.domain import payg
from bgone.domain.clock import now_or_default
from bgone.domain.plan_limits import (
    USE_PLAN_DEFAULT,
    LimitChanges,
    LimitOverrides,
    Limits,
    resolve_limits,
)
from bgone.domain.plans import Plan, get_plan, plan_from_row, require_non_negative
from bgone.errors import AccountExists, InvalidAccountStatus, InvalidEmail, NotFound, quoted

DEFAULT_PLAN = "starter"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    plan: Plan
    status: AccountStatus
    overrides: LimitOverrides
    created_at: datetime
    # Browser origins (scheme://host[:port]) allowed to send this account's keys.
    allowed_origins: tuple[str, ...] = ()
    # Why the operator suspended it, shown to the customer; None when active.
    status_reason: str | None = None


def effective_limits(account: Account) -> Limits:
    return resolve_limits(account.plan, account.overrides)


def normalize_email(email: str) -> str:
    """Lower-cased and trimmed. Only a sanity check: the confirmation mail is the real test."""
    normalized = email.strip().lower()
    local, at, domain = normalized.partition("@")
    if not at or not local or "." not in domain or "@" in domain or " " in normalized:
        raise InvalidEmail(f"{quoted(email)} is not an email address")
    if len(normalized) > EMAIL_LENGTH:
        raise InvalidEmail(f"email addresses are at most {EMAIL_LENGTH} characters")
    return normalized


def create_account(
    session: Session,
    email: str,
    plan: str = DEFAULT_PLAN,
    password_hash: str | None = None,
    now: datetime | None = None,
    trial_milli: int = 0,
) -> Account:
    """A new account, a team of one: its owner is the person with this email (made, with
    `password_hash`, when there is none yet). `trial_milli`: pay-as-you-go credits granted
    once (BGONE_TRIAL_CREDITS)."""
    normalized = normalize_email(email)
    get_plan(session, plan)  # an unknown plan is the caller's mistake, not a database error
    if get_by_email(session, normalized) is not None:
        raise AccountExists(f"an account for {normalized} already exists")
    moment = now_or_default(now)
    row = AccountRow(
        email=normalized, plan=plan, status=AccountStatus.ACTIVE.value, created_at=moment
    )
    # The check above can race with a concurrent sign-up; the unique index settles it, and
    # the savepoint keeps the caller's transaction usable afterwards.
    try:
        with session.begin_nested():
            session.add(row)
            owner = session.scalars(
                select(UserRow).where(UserRow.email == normalized)
            ).one_or_none()
            if owner is None:
                owner = UserRow(email=normalized, password_hash=password_hash, created_at=moment)
                session.add(owner)
                session.flush()
            session.add(
                MembershipRow(account_id=row.id, user_id=owner.id, role="owner", created_at=moment)
            )
    except IntegrityError as error:
        raise AccountExists(f"an account for {normalized} already exists") from error
    payg.grant_trial(session, row.id, trial_milli, now)
    return get_by_id(session, row.id)


def get_by_email(session: Session, email: str) -> Account | None:
    """None rather than an error: a login form must then call `dummy_verify` to hide it."""
    statement = account_query().where(AccountRow.email == email.strip().lower())
    found = session.execute(statement).one_or_none()
    if found is None:
        return None
    row, plan_row = found
    return account_from_rows(row, plan_row)


def get_by_id(session: Session, account_id: int) -> Account:
    found = session.execute(account_query().where(AccountRow.id == account_id)).one_or_none()
    if found is None:
        raise NotFound(f"no account with id {account_id}")
    row, plan_row = found
    return account_from_rows(row, plan_row)


def set_plan(session: Session, account_id: int, plan: str) -> Account:
    get_plan(session, plan)
    _locked_row(session, account_id).plan = plan
    session.flush()
    return get_by_id(session, account_id)


def set_limits(session: Session, account_id: int, changes: LimitChanges) -> Account:
    row = _locked_row(session, account_id)
    for change in fields(changes):
        value = getattr(changes, change.name)
        if value is None:
            continue
        if value is USE_PLAN_DEFAULT:
            setattr(row, change.name, None)
            continue
        require_non_negative(change.name, value)
        setattr(row, change.name, value)
    session.flush()
    return get_by_id(session, account_id)


def set_status(
    session: Session, account_id: int, status: AccountStatus | str, reason: str | None = None
) -> Account:
    """`reason` is shown to the customer while suspended; reactivating clears it."""
    try:
        checked = AccountStatus(status)
    except ValueError as error:
        raise InvalidAccountStatus(f"status must be one of {list(AccountStatus)}") from error
    row = _locked_row(session, account_id)
    row.status = checked.value
    suspended = checked is AccountStatus.SUSPENDED
    row.status_reason = ((reason or "").strip() or None) if suspended else None
    session.flush()
    return get_by_id(session, account_id)


def lock_account(session: Session, account_id: int) -> Account:
    """The account as it is now, locked until the transaction ends (PostgreSQL; SQLite
    transactions are serialised anyway). For decisions that must not race."""
    _locked_row(session, account_id)
    return get_by_id(session, account_id)


def _locked_row(session: Session, account_id: int) -> AccountRow:
    row = session.get(AccountRow, account_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no account with id {account_id}")
    return row


def account_query() -> Select[AccountRow, PlanRow]:
    return select(AccountRow, PlanRow).join(PlanRow, AccountRow.plan == PlanRow.name)


def account_from_rows(row: AccountRow, plan_row: PlanRow) -> Account:
    return Account(
        id=row.id,
        email=row.email,
        plan=plan_from_row(plan_row),
        status=AccountStatus(row.status),
        overrides=LimitOverrides(
            rate_per_minute=row.rate_per_minute,
            monthly_credits_milli=row.monthly_credits_milli,
            max_megapixels=row.max_megapixels,
            max_keys=row.max_keys,
        ),
        created_at=row.created_at,
        allowed_origins=tuple((row.allowed_origins or "").split()),
        # Deferred: loaded (one query) only for the few suspended accounts.
        status_reason=row.status_reason if row.status == AccountStatus.SUSPENDED.value else None,
    )
