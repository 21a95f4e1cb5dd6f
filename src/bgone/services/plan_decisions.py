"""The operator's answer to a plan request (console or CLI): approved, the account moves to
the plan at once; declined, it stays. One transaction with the account's audit event and the
global audit line; the keys' cached answers are then dropped, and whoever asked is mailed
(when BGONE_SMTP_URL is set), after the commit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bgone.db.engine import transaction
from bgone.domain import accounts, audit, operator_log, plan_requests
from bgone.domain.accounts import Account
from bgone.domain.operator_log import OperatorAction
from bgone.domain.plan_requests import Decision, PlanRequest, RequestState
from bgone.infra.mailer import Mailer
from bgone.services.keys import KeyService
from bgone.services.operator_console import OperatorActor

DASHBOARD_ACTOR = "dashboard:"


class PlanDecisions:
    def __init__(self, keys: KeyService, mailer: Mailer | None) -> None:
        self.keys = keys
        self.mailer = mailer

    def decide(self, by: OperatorActor, request_id: int, approve: bool, answer: str) -> PlanRequest:
        action = (
            OperatorAction.PLAN_REQUEST_APPROVED
            if approve
            else OperatorAction.PLAN_REQUEST_DECLINED
        )
        decided: list[PlanRequest] = []

        def change(session: Session) -> Account:
            answered = plan_requests.decide(
                session, Decision(request_id, approve, answer, by.actor)
            )
            decided.append(answered)
            if approve:
                accounts.set_plan(session, answered.account_id, answered.plan)
            audit.record(
                session,
                answered.account_id,
                audit.AuditAction.PLAN_REQUEST_ANSWERED,
                by.actor,
                by.ip,
                detail=f"{answered.plan} {answered.state.value}",
            )
            operator_log.record(
                session,
                by.entry(action, answered.account_id, f"request {request_id}: {answered.plan}"),
            )
            return accounts.get_by_id(session, answered.account_id)

        with transaction(self.keys.read_sessions) as session:
            account_id = plan_requests.get(session, request_id).account_id
        self.keys.change_account(account_id, change)
        self._mail(decided[0])
        return decided[0]

    def _mail(self, decided: PlanRequest) -> None:
        if self.mailer is None or not decided.requested_by.startswith(DASHBOARD_ACTOR):
            return
        verdict = "approved" if decided.state is RequestState.APPROVED else "declined"
        body = (
            f"Your request to move account {decided.account_email} to the {decided.plan} plan "
            f"was {verdict}.\n"
            + (f"\nThe operator's message:\n{decided.answer}\n" if decided.answer else "")
        )
        self.mailer.send_later(
            decided.requested_by.removeprefix(DASHBOARD_ACTOR),
            f"Your plan request was {verdict}",
            body,
        )
