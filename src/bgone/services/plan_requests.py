"""The customer's side of plans: an owner or admin asks for a plan (with what it is for), or
switches at once to one of `BGONE_SELF_SERVE_PLANS`, with the `BGONE_TRIAL_CREDITS` once per
account. The operator answers requests in the console (bgone.services.operator_console)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bgone.db.engine import transaction
from bgone.domain import accounts, audit, payg, plan_requests
from bgone.domain.accounts import Account
from bgone.domain.plan_requests import NewRequest, PlanRequest
from bgone.domain.roles import Permission, require
from bgone.errors import InvalidRequest
from bgone.services.keys import KeyActor, KeyService


@dataclass(frozen=True)
class PlanAsked:
    """What asking did: a request now waits (`request`), or the account moved (`switched`)."""

    request: PlanRequest | None = None
    switched: Account | None = None


class PlanRequests:
    def __init__(
        self, keys: KeyService, self_serve_plans: frozenset[str], trial_milli: int
    ) -> None:
        self.keys = keys
        self.self_serve_plans = self_serve_plans
        self.trial_milli = trial_milli

    def latest(self, account_id: int) -> PlanRequest | None:
        with transaction(self.keys.read_sessions) as session:
            return plan_requests.latest_for(session, account_id)

    def ask(self, by: KeyActor, plan: str, purpose: str) -> PlanAsked:
        require(by.granted, Permission.REQUEST_PLAN, "requesting a plan")
        with transaction(self.keys.read_sessions) as session:
            if accounts.get_by_id(session, by.account_id).plan.name == plan:
                raise InvalidRequest(f"this account is already on the {plan} plan")
        if plan in self.self_serve_plans:
            return PlanAsked(switched=self._switch(by, plan))
        with transaction(self.keys.sessions) as session:
            request = plan_requests.create(
                session, NewRequest(by.account_id, plan, purpose, by.actor)
            )
            audit.record(
                session,
                by.account_id,
                audit.AuditAction.PLAN_REQUESTED,
                by.actor,
                by.ip,
                detail=plan,
            )
        return PlanAsked(request=request)

    def _switch(self, by: KeyActor, plan: str) -> Account:
        def change(session: Session) -> Account:
            account = accounts.set_plan(session, by.account_id, plan)
            payg.grant_trial(session, by.account_id, self.trial_milli)
            audit.record(
                session,
                by.account_id,
                audit.AuditAction.PLAN_CHANGED,
                by.actor,
                by.ip,
                detail=f"{plan} (self-serve)",
            )
            return account

        return self.keys.change_account(by.account_id, change)
