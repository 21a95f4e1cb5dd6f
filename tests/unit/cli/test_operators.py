"""`bgone operators add|remove|list`, and the global audit log of every operator command
(plan edits, plan changes, limits, status, grants, keys, members, password and 2FA resets)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from bgone.cli import app as cli
from bgone.db.engine import transaction
from bgone.domain import accounts, operator_log, operators, users
from bgone.domain.operator_log import OperatorAction
from tests.unit.inprocess import InProcess, in_process_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with in_process_app(tmp_path_factory.mktemp("operators")) as running:
        yield running


def run_cli(app: InProcess, *arguments: str, expect: int = 0, stdin: str | None = None) -> str:
    env = {"BGONE_DATABASE_URL": app.stack.database_url, "BGONE_REDIS_URL": ""}
    result = CliRunner().invoke(cli, list(arguments), env=env, input=stdin)
    assert result.exit_code == expect, result.output
    return result.output


def email_of(app: InProcess, account_id: int) -> str:
    with transaction(app.stack.sessions) as session:
        return accounts.get_by_id(session, account_id).email


def logged(app: InProcess, account_id: int | None = None) -> list[tuple[str, str, str]]:
    with transaction(app.stack.sessions) as session:
        return [
            (entry.action.value, entry.actor, entry.detail)
            for entry in operator_log.recent(session, account_id)
        ]


def test_add_list_remove_an_operator(app: InProcess) -> None:
    email = email_of(app, app.stack.account("starter"))
    assert "is now an operator" in run_cli(app, "operators", "add", email.upper())
    assert "was already an operator" in run_cli(app, "operators", "add", email)
    assert email in run_cli(app, "operators", "list")
    with transaction(app.stack.sessions) as session:
        person = users.get_by_email(session, email)
        assert person is not None and operators.is_operator(session, person.id)

    assert "no longer an operator" in run_cli(app, "operators", "remove", email)
    assert email not in run_cli(app, "operators", "list")
    actions = [action for action, _, detail in logged(app) if detail == email]
    assert actions[:2] == ["operator_removed", "operator_added"]


def test_an_unknown_person_cannot_become_an_operator(app: InProcess) -> None:
    output = run_cli(app, "operators", "add", "nobody@example.com", expect=1)
    assert "not_found" in output


def test_every_account_command_is_in_the_global_log(app: InProcess) -> None:
    account_id = app.stack.account("starter")
    email = email_of(app, account_id)
    run_cli(app, "accounts", "set-plan", email, "business")
    run_cli(app, "accounts", "set-limits", email, "--rate-per-minute", "7")
    run_cli(app, "accounts", "set-status", email, "suspended", "--reason", "unpaid")
    run_cli(app, "accounts", "set-status", email, "active")
    run_cli(app, "accounts", "grant-credits", email, "50")
    run_cli(app, "accounts", "reset-2fa", email)
    run_cli(app, "accounts", "reset-password", email, "--password-stdin", stdin="x" * 12 + "\n")
    run_cli(app, "keys", "create", email, "--name", "ci")

    on_account = [action for action, actor, _ in logged(app, account_id) if actor == "operator:cli"]
    assert on_account == [
        OperatorAction.KEY_CREATED,
        OperatorAction.CREDITS_GRANTED,
        OperatorAction.STATUS_CHANGED,
        OperatorAction.STATUS_CHANGED,
        OperatorAction.LIMITS_CHANGED,
        OperatorAction.PLAN_CHANGED,
    ]
    everyone = logged(app)
    assert ("two_factor_reset", "operator:cli", email) in everyone
    assert ("password_reset", "operator:cli", f"{email}: set") in everyone
    assert ("status_changed", "operator:cli", "suspended: unpaid") in everyone


def test_plans_set_is_in_the_global_log(app: InProcess) -> None:
    run_cli(app, "plans", "set", "enterprise", "--max-keys", "77")
    action, actor, detail = logged(app)[0]
    assert (action, actor) == ("plan_edited", "operator:cli")
    assert detail == "enterprise: max_keys=77"


def test_plan_requests_from_the_cli(app: InProcess) -> None:
    from bgone.domain import plan_requests
    from bgone.domain.plan_requests import NewRequest

    account_id = app.stack.account("starter")
    email = email_of(app, account_id)
    with transaction(app.stack.sessions) as session:
        first = plan_requests.create(
            session, NewRequest(account_id, "business", "shop photos", f"dashboard:{email}")
        )
    listed = run_cli(app, "plans", "requests")
    assert f"{first.id}: account {account_id}" in listed and "shop photos" in listed
    approved = run_cli(app, "plans", "approve", str(first.id), "--message", "welcome")
    assert "approved" in approved and "is now on business" in approved
    assert "already approved" in run_cli(app, "plans", "decline", str(first.id), expect=1)
    with transaction(app.stack.sessions) as session:
        assert accounts.get_by_id(session, account_id).plan.name == "business"
    assert f"{first.id}: account" not in run_cli(app, "plans", "requests")
    assert logged(app, account_id)[0][:2] == ("plan_request_approved", "operator:cli")
