"""The console's records on SQLite and PostgreSQL: plan requests (one waiting per account,
answered once), the global audit log (newest first, per account or all), the operator flag,
and usage across all accounts per day with errors by code."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import UsageRecordRow, UsageRollupRow
from bgone.domain import operator_log, operators, plan_requests
from bgone.domain.fleet_usage import errors_by_code, per_day
from bgone.domain.operator_log import ActionEntry, OperatorAction
from bgone.domain.plan_requests import Decision, NewRequest, RequestState
from bgone.errors import (
    InvalidRequest,
    NotFound,
    PlanRequestDecided,
    PlanRequestPending,
    UnknownPlan,
)
from tests.unit.domain.support import NOW, MakeAccount


def test_one_request_waits_and_is_answered_once(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account("starter")
    new = NewRequest(account.id, "business", "  product photos  ", "dashboard:me@example.com")
    with transaction(sessions) as session:
        asked = plan_requests.create(session, new, now=NOW)
        assert asked.purpose == "product photos" and asked.state is RequestState.PENDING
        with pytest.raises(PlanRequestPending):
            plan_requests.create(session, new, now=NOW)
        with pytest.raises(UnknownPlan):
            plan_requests.create(session, NewRequest(account.id, "gold", "x", "me"))
        with pytest.raises(InvalidRequest):
            plan_requests.create(session, NewRequest(account.id, "business", "   ", "me"))
        decided = plan_requests.decide(
            session, Decision(asked.id, False, "not yet", "console:op@example.com"), now=NOW
        )
        assert decided.state is RequestState.DECLINED and decided.answer == "not yet"
        with pytest.raises(PlanRequestDecided):
            plan_requests.decide(session, Decision(asked.id, True, "", "console:op"))
        with pytest.raises(NotFound):
            plan_requests.decide(session, Decision(10**9, True, "", "console:op"))
        later = plan_requests.create(session, new, now=NOW + timedelta(hours=1))
        assert plan_requests.latest_for(session, account.id) == later
        assert [
            found.id for found in plan_requests.list_requests(session, RequestState.PENDING)
        ] == [later.id]


def test_the_global_log_newest_first(sessions: SessionFactory, make_account: MakeAccount) -> None:
    account = make_account()
    with transaction(sessions) as session:
        operator_log.record(
            session, ActionEntry("operator:cli", OperatorAction.PLAN_EDITED, None, "business"), NOW
        )
        operator_log.record(
            session,
            ActionEntry(
                "console:op@example.com", OperatorAction.CREDITS_GRANTED, account.id, "5", "::1"
            ),
            NOW + timedelta(seconds=1),
        )
        everything = operator_log.recent(session)
        mine = operator_log.recent(session, account.id)
    assert [entry.action for entry in everything[:2]] == [
        OperatorAction.CREDITS_GRANTED,
        OperatorAction.PLAN_EDITED,
    ]
    assert [(entry.actor, entry.ip) for entry in mine] == [("console:op@example.com", "::1")]


def test_the_operator_flag(sessions: SessionFactory, make_account: MakeAccount) -> None:
    account = make_account()
    with transaction(sessions) as session:
        assert operators.add(session, account.email, "tests") is True
        assert operators.add(session, account.email, "tests") is False
        assert [found.email for found in operators.list_operators(session)] == [account.email]
        assert operators.remove(session, account.email) is True
        assert operators.remove(session, account.email) is False
        with pytest.raises(NotFound):
            operators.add(session, "nobody@example.com", "tests")


def test_usage_across_accounts(sessions: SessionFactory, make_account: MakeAccount) -> None:
    first, second = make_account(), make_account()
    with transaction(sessions) as session:
        for account_id, status, requests in (
            (first.id, 200, 5),
            (second.id, 200, 2),
            (second.id, 402, 3),
        ):
            session.add(
                UsageRollupRow(
                    account_id=account_id,
                    day=NOW.date(),
                    key_id="",
                    endpoint="POST /v2",
                    status=status,
                    requests=requests,
                    credits_milli=requests * 500,
                    megapixels=0.0,
                )
            )
        for number, code in enumerate(("insufficient_credits", "insufficient_credits", None)):
            session.add(
                UsageRecordRow(
                    request_id=f"fleet-{number}-{first.id}",
                    account_id=first.id,
                    at=NOW,
                    endpoint="POST /v2",
                    status=402 if code else 200,
                    error_code=code,
                )
            )
        session.flush()
        days = per_day(session, NOW)
        errors = errors_by_code(session, NOW + timedelta(minutes=1))
    assert (days[0].day, days[0].requests, days[0].credits, days[0].failed) == (
        NOW.date(),
        10,
        5.0,
        3,
    )
    assert [(error.day, error.code, error.status, error.count) for error in errors] == [
        (NOW.date(), "insufficient_credits", 402, 2)
    ]


def test_the_database_holds_one_waiting_request_per_account(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    from sqlalchemy.exc import IntegrityError

    from bgone.db.tables import PlanRequestRow

    account = make_account("starter")
    with transaction(sessions) as session:
        plan_requests.create(session, NewRequest(account.id, "business", "first", "me"), now=NOW)
        # What a racing second request would write after its own check saw none waiting.
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(
                PlanRequestRow(
                    account_id=account.id,
                    plan="business",
                    purpose="second",
                    requested_by="you",
                    requested_at=NOW,
                    state="pending",
                )
            )
