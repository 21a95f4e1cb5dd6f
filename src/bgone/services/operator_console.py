"""The operator's use cases, for the /admin console and the CLI alike: each change runs in
one transaction with its line in the global audit log (bgone.domain.operator_log) and, where
the customer should see it, in the account's own log; cached key answers are then dropped
through the key service, on every replica."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import (
    accounts,
    api_keys,
    audit,
    fleet,
    fleet_usage,
    operator_log,
    operators,
    payg,
    plan_requests,
    plans,
    two_factor,
)
from bgone.domain.account_directory import DirectoryPage, DirectoryQuery, list_accounts
from bgone.domain.accounts import Account, AccountStatus
from bgone.domain.clock import utc_now
from bgone.domain.fleet import Replica
from bgone.domain.fleet_usage import ErrorCount, FleetDay
from bgone.domain.key_records import KeyRecord
from bgone.domain.operator_log import ActionEntry, LoggedAction, OperatorAction
from bgone.domain.operators import Operator
from bgone.domain.plan_limits import USE_PLAN_DEFAULT, LimitChanges
from bgone.domain.plan_requests import PlanRequest, RequestState
from bgone.domain.plans import Plan, PlanChanges
from bgone.infra.keycache import ALL as ALL_KEYS
from bgone.services.keys import KeyService

CLI_ACTOR = "operator:cli"


@dataclass(frozen=True)
class FleetView:
    replicas: list[Replica]
    days: list[FleetDay]
    errors: list[ErrorCount]


class ConsoleAccess(StrEnum):
    OPEN = "open"
    NOT_AN_OPERATOR = "not_an_operator"
    ENROL_FIRST = "enrol_first"  # an operator without two-factor sets it up first


@dataclass(frozen=True)
class OperatorActor:
    """Who acts: "console:<email>" from /admin (with the client's IP), or the CLI."""

    actor: str = CLI_ACTOR
    ip: str | None = None

    def entry(
        self, action: OperatorAction, account_id: int | None = None, detail: str = ""
    ) -> ActionEntry:
        return ActionEntry(self.actor, action, account_id, detail, self.ip)


def _limits_text(changes: LimitChanges) -> str:
    parts = [
        f"{name}={'plan' if value is USE_PLAN_DEFAULT else value}"
        for name, value in vars(changes).items()
        if value is not None
    ]
    return " ".join(parts) or "no change"


class OperatorConsole:
    def __init__(
        self,
        sessions: SessionFactory,
        read_sessions: SessionFactory,
        keys: KeyService,
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.keys = keys

    # -- reads -------------------------------------------------------------------------------
    def access(self, user_id: int) -> ConsoleAccess:
        """May this person open the console: operators only, and only with two-factor on."""
        with transaction(self.read_sessions) as session:
            if not operators.is_operator(session, user_id):
                return ConsoleAccess.NOT_AN_OPERATOR
            if not two_factor.is_enabled(session, user_id):
                return ConsoleAccess.ENROL_FIRST
            return ConsoleAccess.OPEN

    def directory(self, query: DirectoryQuery, now: datetime | None = None) -> DirectoryPage:
        with transaction(self.read_sessions) as session:
            return list_accounts(session, query, now or utc_now())

    def account(self, account_id: int) -> Account:
        with transaction(self.read_sessions) as session:
            return accounts.get_by_id(session, account_id)

    def log(self, account_id: int | None = None) -> list[LoggedAction]:
        with transaction(self.read_sessions) as session:
            return operator_log.recent(session, account_id)

    def requests(self, state: RequestState | None) -> list[PlanRequest]:
        with transaction(self.read_sessions) as session:
            return plan_requests.list_requests(session, state)

    def plans(self) -> list[Plan]:
        with transaction(self.read_sessions) as session:
            return plans.list_plans(session)

    def fleet(self, now: datetime | None = None) -> FleetView:
        moment = now or utc_now()
        with transaction(self.read_sessions) as session:
            return FleetView(
                replicas=fleet.list_replicas(session, moment),
                days=fleet_usage.per_day(session, moment),
                errors=fleet_usage.errors_by_code(session, moment),
            )

    def operators(self) -> list[Operator]:
        with transaction(self.read_sessions) as session:
            return operators.list_operators(session)

    # -- one account ---------------------------------------------------------------------------
    def _on_account(
        self, account_id: int, change: Callable[[Session], Account], entry: ActionEntry
    ) -> Account:
        def logged(session: Session) -> Account:
            account = change(session)
            operator_log.record(session, entry)
            return account

        return self.keys.change_account(account_id, logged)

    def change_plan(self, by: OperatorActor, account_id: int, plan: str) -> Account:
        def change(session: Session) -> Account:
            account = accounts.set_plan(session, account_id, plan)
            audit.record(
                session, account_id, audit.AuditAction.PLAN_CHANGED, by.actor, by.ip, detail=plan
            )
            return account

        return self._on_account(
            account_id, change, by.entry(OperatorAction.PLAN_CHANGED, account_id, plan)
        )

    def change_limits(self, by: OperatorActor, account_id: int, changes: LimitChanges) -> Account:
        detail = _limits_text(changes)

        def change(session: Session) -> Account:
            account = accounts.set_limits(session, account_id, changes)
            audit.record(
                session,
                account_id,
                audit.AuditAction.LIMITS_CHANGED,
                by.actor,
                by.ip,
                detail=detail,
            )
            return account

        return self._on_account(
            account_id, change, by.entry(OperatorAction.LIMITS_CHANGED, account_id, detail)
        )

    def change_status(
        self, by: OperatorActor, account_id: int, status: AccountStatus | str, reason: str | None
    ) -> Account:
        def change(session: Session) -> Account:
            account = accounts.set_status(session, account_id, status, reason)
            detail = account.status.value + (
                f": {account.status_reason}" if account.status_reason else ""
            )
            audit.record(
                session,
                account_id,
                audit.AuditAction.ACCOUNT_STATUS_CHANGED,
                by.actor,
                by.ip,
                detail=detail,
            )
            operator_log.record(
                session, by.entry(OperatorAction.STATUS_CHANGED, account_id, detail)
            )
            return account

        return self.keys.change_account(account_id, change)

    def grant_credits(
        self, by: OperatorActor, account_id: int, milli: int, reason: str = ""
    ) -> int:
        """Pay-as-you-go credits; the new balance."""
        detail = f"{milli / 1000:g} credits" + (f": {reason}" if reason else "")
        with transaction(self.sessions) as session:
            balance = payg.grant(session, account_id, milli, actor=by.actor, reason=reason)
            audit.record(
                session,
                account_id,
                audit.AuditAction.CREDITS_GRANTED,
                by.actor,
                by.ip,
                detail=detail,
            )
            operator_log.record(
                session, by.entry(OperatorAction.CREDITS_GRANTED, account_id, detail)
            )
        return balance

    def revoke_key(self, by: OperatorActor, account_id: int, key_id: str) -> KeyRecord:
        with transaction(self.sessions) as session:
            record = api_keys.revoke(session, account_id, key_id, by.actor, ip=by.ip)
            operator_log.record(session, by.entry(OperatorAction.KEY_REVOKED, account_id, key_id))
        self.keys.key_cache.invalidate(key_id)
        return record

    def record(
        self, by: OperatorActor, action: OperatorAction, account_id: int | None, detail: str
    ) -> None:
        """An action done elsewhere (the CLI's key, member and password commands)."""
        with transaction(self.sessions) as session:
            operator_log.record(session, by.entry(action, account_id, detail))

    # -- plans and operators -------------------------------------------------------------------
    def edit_plan(self, by: OperatorActor, name: str, changes: PlanChanges) -> Plan:
        detail = " ".join(
            f"{key}={value}" for key, value in vars(changes).items() if value is not None
        )
        with transaction(self.sessions) as session:
            plan = plans.update_plan(session, name, changes)
            operator_log.record(
                session,
                by.entry(OperatorAction.PLAN_EDITED, None, f"{name}: {detail or 'no change'}"),
            )
        # Every account on the plan follows at once: each key's cached answer is stale.
        self.keys.key_cache.invalidate(ALL_KEYS)
        return plan

    def add_operator(self, by: OperatorActor, email: str) -> bool:
        with transaction(self.sessions) as session:
            added = operators.add(session, email, by.actor)
            operator_log.record(
                session, by.entry(OperatorAction.OPERATOR_ADDED, None, email.strip().lower())
            )
        return added

    def remove_operator(self, by: OperatorActor, email: str) -> bool:
        with transaction(self.sessions) as session:
            removed = operators.remove(session, email)
            operator_log.record(
                session, by.entry(OperatorAction.OPERATOR_REMOVED, None, email.strip().lower())
            )
        return removed
