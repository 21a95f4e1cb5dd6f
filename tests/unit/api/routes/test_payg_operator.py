"""Pay-as-you-go credits, suspension with a reason, plans as data and the fleet, through the
in-process app and the operator's CLI on its database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bgone.cli import app as cli
from bgone.db.engine import transaction
from bgone.db.tables import AuditEventRow, ReplicaHeartbeatRow
from bgone.domain import accounts, fleet, payg
from bgone.domain.plans import PlanChanges
from bgone.server.container import Services
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.inprocess import InProcess, assert_error, in_process_app

PHOTO = encode(gradient_rgb(64, 48), "PNG")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    folder = tmp_path_factory.mktemp("payg")
    with in_process_app(folder, trial_credits=2.5) as running:
        yield running


def services(app: InProcess) -> Services:
    found: Services = app.client.app.state.services  # type: ignore[attr-defined]
    return found


def run_cli(app: InProcess, *arguments: str) -> str:
    env = {"BGONE_DATABASE_URL": app.stack.database_url, "BGONE_REDIS_URL": ""}
    result = CliRunner().invoke(cli, list(arguments), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def account_document(app: InProcess, key: str) -> dict[str, float]:
    response = app.client.get("/v1.0/account", headers={"X-Api-Key": key})
    assert response.status_code == 200, response.text
    credits: dict[str, float] = response.json()["data"]["attributes"]["credits"]
    return credits


def test_account_reports_payg_and_total_after_a_grant(app: InProcess) -> None:
    account_id = app.stack.account("business", monthly_credits_milli=3000)
    key = app.stack.key(account_id)
    with transaction(app.stack.sessions) as session:
        email = accounts.get_by_id(session, account_id).email
    output = run_cli(app, "accounts", "grant-credits", email, "4.5", "--reason", "apology")
    assert "pay-as-you-go balance 4.5" in output

    assert account_document(app, key) == {
        "total": 7.5,
        "subscription": 3.0,
        "payg": 4.5,
        "enterprise": 0,
    }
    with transaction(app.stack.sessions) as session:
        actions = session.scalars(
            select(AuditEventRow.actor).where(
                AuditEventRow.account_id == account_id, AuditEventRow.action == "credits_granted"
            )
        ).all()
    assert actions == ["operator:cli"]


def test_requests_past_the_month_spend_payg(app: InProcess) -> None:
    account_id = app.stack.account("business", monthly_credits_milli=1000)
    key = app.stack.key(account_id)
    with transaction(app.stack.sessions) as session:
        payg.grant(session, account_id, 1000, actor="operator:cli")
    for _ in range(2):
        response = app.client.post("/v2", headers={"x-api-key": key}, files={"image_file": PHOTO})
        assert response.status_code == 200, response.text
    refused = app.client.post("/v2", headers={"x-api-key": key}, files={"image_file": PHOTO})
    assert_error(refused, 402, "insufficient_credits")
    with transaction(app.stack.sessions) as session:
        assert payg.payg_balance(session, account_id) == 0


def test_cli_accounts_get_the_trial_once(app: InProcess, tmp_path: Path) -> None:
    env = {
        "BGONE_DATABASE_URL": app.stack.database_url,
        "BGONE_TRIAL_CREDITS": "2.5",
    }
    result = CliRunner().invoke(cli, ["accounts", "create", "trial@example.com"], env=env)
    assert result.exit_code == 0, result.output
    with transaction(app.stack.sessions) as session:
        account = accounts.get_by_email(session, "trial@example.com")
        assert account is not None
        assert payg.payg_balance(session, account.id) == 2500
        assert payg.grant_trial(session, account.id, 2500) is False
    # Sign-up through the dashboard's service grants it too (the app runs with 2.5).
    signed_up = services(app).login.sign_up("signup@example.com", "a-long-password", "starter")
    with transaction(app.stack.sessions) as session:
        assert payg.payg_balance(session, signed_up) == 2500


def test_suspension_reason_is_in_the_403_detail(app: InProcess) -> None:
    account_id = app.stack.account("business")
    key = app.stack.key(account_id)
    assert app.client.get("/v1/account", headers={"X-Api-Key": key}).status_code == 200
    # The service the CLI's set-status calls, with the server's own cache to invalidate.
    services(app).keys.change_status(
        account_id, "suspended", reason="invoice 42 unpaid", actor="operator:cli"
    )

    response = app.client.post("/v2", headers={"x-api-key": key}, files={"image_file": PHOTO})

    error = assert_error(response, 403, "account_suspended")
    assert "invoice 42 unpaid" in error["detail"]
    services(app).keys.change_status(account_id, "active", actor="operator:cli")
    with transaction(app.stack.sessions) as session:
        assert accounts.get_by_id(session, account_id).status_reason is None


def test_cli_set_status_stores_the_reason_and_audits(app: InProcess) -> None:
    account_id = app.stack.account("business")
    with transaction(app.stack.sessions) as session:
        email = accounts.get_by_id(session, account_id).email
    output = run_cli(app, "accounts", "set-status", email, "suspended", "--reason", "abuse")
    assert "suspended (abuse)" in output
    with transaction(app.stack.sessions) as session:
        assert accounts.get_by_id(session, account_id).status_reason == "abuse"
        details = session.scalars(
            select(AuditEventRow.detail).where(AuditEventRow.account_id == account_id)
        ).all()
    assert details == ["suspended: abuse"]


def test_plans_set_changes_a_real_requests_limit(app: InProcess) -> None:
    key = app.stack.key(app.stack.account("enterprise"))
    ok = app.client.post("/v2", headers={"x-api-key": key}, files={"image_file": PHOTO})
    assert ok.status_code == 200, ok.text
    services(app).keys.change_plan_defaults("enterprise", PlanChanges(api_access=False))
    try:
        refused = app.client.post("/v2", headers={"x-api-key": key}, files={"image_file": PHOTO})
        assert_error(refused, 403, "plan_without_api_access")
    finally:
        services(app).keys.change_plan_defaults("enterprise", PlanChanges(api_access=True))


def test_cli_plans_list_and_set(app: InProcess) -> None:
    assert "starter (" in run_cli(app, "plans", "list")
    output = run_cli(
        app, "plans", "set", "starter", "--max-keys", "7", "--staging-rate-per-minute", "3"
    )
    assert "max 7 keys" in output
    assert "staging 3/min" in output


def test_heartbeat_row_appears_and_fleet_marks_a_stale_one_gone(app: InProcess) -> None:
    mine = services(app).replica_id
    with transaction(app.stack.sessions) as session:
        row = session.get(ReplicaHeartbeatRow, mine)
        assert row is not None
        assert row.version
        long_ago = datetime.now(UTC) - timedelta(minutes=5)
        fleet.beat(
            session,
            fleet.Beat("old-replica", "0.0.1", "gone-host", long_ago, 0, {}, ()),
            now=long_ago,
        )
    output = run_cli(app, "fleet")
    lines = {line.split()[0]: line for line in output.splitlines()}
    assert " up " in lines[mine]
    assert " GONE " in lines["old-replica"]


def test_dashboard_shows_the_reason_and_the_payg_balance(app: InProcess) -> None:
    from bgone.domain.web_sessions import COOKIE_NAME, start_session

    account_id = app.stack.account("business")
    with transaction(app.stack.sessions) as session:
        token, _ = start_session(session, account_id, None)
        payg.grant(session, account_id, 1250, actor="operator:cli")
    services(app).keys.change_status(account_id, "suspended", reason="card expired")
    app.client.cookies.set(COOKIE_NAME, token)
    try:
        page = app.client.get("/account").text
    finally:
        app.client.cookies.clear()
    assert "This account is suspended: card expired" in page
    assert '<span data-testid="payg">1.25</span> pay-as-you-go' in page
