from __future__ import annotations

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import accounts
from bgone.domain.accounts import AccountStatus, effective_limits
from bgone.domain.plan_limits import USE_PLAN_DEFAULT, LimitChanges
from bgone.domain.plans import PlanChanges, get_plan, list_plans, update_plan
from bgone.errors import (
    AccountExists,
    InvalidAccountStatus,
    InvalidEmail,
    InvalidLimit,
    NotFound,
    UnknownPlan,
)
from tests.unit.domain.support import NOW, MakeAccount


def test_email_is_normalised_and_unique(sessions: SessionFactory) -> None:
    with transaction(sessions) as session:
        account = accounts.create_account(session, "  Alice@Example.COM ", now=NOW)
    assert account.email == "alice@example.com"
    assert account.plan.name == "starter"
    assert account.status is AccountStatus.ACTIVE
    assert account.created_at == NOW

    with pytest.raises(AccountExists), transaction(sessions) as session:
        accounts.create_account(session, "ALICE@example.com")
    with sessions() as session:
        found = accounts.get_by_email(session, "alice@EXAMPLE.com")
        assert found is not None
        assert found.id == account.id
        assert accounts.get_by_email(session, "bob@example.com") is None


@pytest.mark.parametrize("email", ["", "no-at-sign", "@example.com", "a@nodot", "a b@c.d"])
def test_invalid_emails_are_refused(sessions: SessionFactory, email: str) -> None:
    with pytest.raises(InvalidEmail), transaction(sessions) as session:
        accounts.create_account(session, email)


def test_unknown_plan_and_account_are_typed_errors(sessions: SessionFactory) -> None:
    with transaction(sessions) as session:
        with pytest.raises(UnknownPlan):
            accounts.create_account(session, "x@example.com", plan="platinum")
        with pytest.raises(NotFound):
            accounts.get_by_id(session, 999_999)


def test_effective_limits_use_overrides_then_plan(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account("business")
    assert effective_limits(account).rate_per_minute == 500

    with transaction(sessions) as session:
        changed = accounts.set_limits(
            session, account.id, LimitChanges(rate_per_minute=50, max_megapixels=4.0)
        )
    limits = effective_limits(changed)
    assert (limits.rate_per_minute, limits.max_megapixels) == (50, 4.0)
    assert limits.monthly_credits_milli == 1_000_000  # untouched: still the plan's
    assert limits.staging_rate_per_minute == 20

    with transaction(sessions) as session:
        kept = accounts.set_limits(session, account.id, LimitChanges(max_keys=3))
    assert effective_limits(kept).rate_per_minute == 50  # None kept the override

    with transaction(sessions) as session:
        cleared = accounts.set_limits(
            session, account.id, LimitChanges(rate_per_minute=USE_PLAN_DEFAULT)
        )
    assert effective_limits(cleared).rate_per_minute == 500
    assert effective_limits(cleared).max_keys == 3


@pytest.mark.parametrize(
    ("plan_changes", "limit_changes", "staging"),
    [
        (PlanChanges(), LimitChanges(rate_per_minute=5), 5),  # an account held below staging
        (PlanChanges(staging_rate_per_minute=1000), LimitChanges(), 500),  # a generous plan
        (PlanChanges(), LimitChanges(rate_per_minute=0), 0),
        (PlanChanges(), LimitChanges(), 20),  # the plan's own, lower, staging rate
    ],
)
def test_staging_keys_never_get_more_than_the_production_limit(
    sessions: SessionFactory,
    make_account: MakeAccount,
    plan_changes: PlanChanges,
    limit_changes: LimitChanges,
    staging: int,
) -> None:
    account = make_account("business")
    with transaction(sessions) as session:
        update_plan(session, "business", plan_changes)
        changed = accounts.set_limits(session, account.id, limit_changes)
    try:
        limits = effective_limits(changed)
        assert limits.staging_rate_per_minute == staging
        assert limits.staging_rate_per_minute <= limits.rate_per_minute
    finally:  # the plans table is not emptied between tests
        with transaction(sessions) as session:
            update_plan(session, "business", PlanChanges(staging_rate_per_minute=20))


def test_negative_limits_are_refused(sessions: SessionFactory, make_account: MakeAccount) -> None:
    account = make_account()
    with pytest.raises(InvalidLimit), transaction(sessions) as session:
        accounts.set_limits(session, account.id, LimitChanges(max_keys=-1))


def test_plan_change_and_plan_edit_reach_the_account(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account("starter")
    assert not effective_limits(account).api_access

    with transaction(sessions) as session:
        upgraded = accounts.set_plan(session, account.id, "enterprise")
    assert effective_limits(upgraded).api_access
    assert effective_limits(upgraded).rate_per_minute == 2000

    with transaction(sessions) as session:
        update_plan(session, "enterprise", PlanChanges(rate_per_minute=3000))
        assert effective_limits(accounts.get_by_id(session, account.id)).rate_per_minute == 3000
        assert get_plan(session, "enterprise").rate_per_minute == 3000
        assert get_plan(session, "enterprise").max_keys == 50


def test_plans_are_listed_cheapest_first(sessions: SessionFactory) -> None:
    with sessions() as session:
        assert [plan.name for plan in list_plans(session)] == ["starter", "business", "enterprise"]
        with pytest.raises(InvalidLimit):
            update_plan(session, "business", PlanChanges(monthly_credits_milli=-5))


def test_status_changes(sessions: SessionFactory, make_account: MakeAccount) -> None:
    account = make_account()
    with transaction(sessions) as session:
        assert accounts.set_status(session, account.id, "suspended").status is (
            AccountStatus.SUSPENDED
        )
        with pytest.raises(InvalidAccountStatus):
            accounts.set_status(session, account.id, "deleted")
