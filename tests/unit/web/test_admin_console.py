"""The /admin console in process: who may open it (every route, GET and POST: signed out to
the login page, a non-operator 403, an operator without two-factor to enrolment), the
actions with their audit lines, bad input answered without a 500, plan requests from the
account page to the queue and back, and the self-serve plans."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from bgone.db.engine import transaction
from bgone.domain import accounts, operator_log, payg
from bgone.domain.web_sessions import COOKIE_NAME
from bgone.web import admin_accounts, admin_pages
from tests.support.operators import Person, make_operator, person, sign_in
from tests.unit.inprocess import InProcess, in_process_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    folder = tmp_path_factory.mktemp("console")
    with in_process_app(folder, self_serve_plans=["enterprise"], trial_credits=5) as running:
        yield running


def client_of(app: InProcess, who: Person | None) -> tuple[TestClient, str]:
    client = TestClient(app.client.app)
    if who is None:
        return client, ""
    signed = sign_in(app.stack, who)
    client.cookies.set(COOKIE_NAME, signed.token)
    return client, signed.csrf


def admin_paths(app: InProcess, account_id: int) -> list[tuple[str, str]]:
    """Every /admin route the app serves, with its path parameters filled in."""
    found = []
    for route in [*admin_accounts.router.routes, *admin_pages.router.routes]:
        if isinstance(route, Route) and route.path.startswith("/admin"):
            path = (
                route.path.replace("{account_id}", str(account_id))
                .replace("{key_id}", "key_0000000000000000")
                .replace("{request_id}", "1")
                .replace("{name}", "business")
            )
            for method in sorted(route.methods or ()):
                if method in ("GET", "POST"):
                    found.append((method, path))
    return found


def test_the_console_has_the_pages_of_the_issue(app: InProcess) -> None:
    paths = {path for _, path in admin_paths(app, 1)}
    for expected in (
        "/admin",
        "/admin/accounts",
        "/admin/requests",
        "/admin/plans",
        "/admin/fleet",
    ):
        assert expected in paths


def test_every_admin_route_refuses_a_non_operator(app: InProcess) -> None:
    customer = person(app.stack, "business")
    client, csrf = client_of(app, customer)
    routes = admin_paths(app, customer.account_id)
    assert len(routes) >= 12
    for method, path in routes:
        answer = client.request(
            method,
            path,
            data={"csrf_token": csrf} if method == "POST" else None,
            follow_redirects=False,
        )
        assert answer.status_code == 403, (method, path, answer.status_code)


def test_signed_out_goes_to_the_login_page(app: InProcess) -> None:
    client, _ = client_of(app, None)
    for method, path in admin_paths(app, 1):
        answer = client.request(method, path, follow_redirects=False)
        assert answer.status_code == 303, (method, path)
        assert answer.headers["location"].startswith("/login?next=")


def test_an_operator_without_two_factor_enrols_first(app: InProcess) -> None:
    operator = person(app.stack, tag="op")
    make_operator(app.stack, operator, with_two_factor=False)
    client, _ = client_of(app, operator)
    answer = client.get("/admin/accounts", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/account/two-factor")


def operator_client(app: InProcess) -> tuple[TestClient, str, Person]:
    operator = person(app.stack, tag="op")
    make_operator(app.stack, operator)
    client, csrf = client_of(app, operator)
    return client, csrf, operator


def test_search_by_a_member_email_and_sort(app: InProcess) -> None:
    client, _, _ = operator_client(app)
    customer = person(app.stack, tag="findme")
    page = client.get("/admin/accounts", params={"q": customer.email.upper()})
    assert page.status_code == 200
    assert f"/admin/accounts/{customer.account_id}" in page.text
    assert "1 account matching" in page.text
    by_id = client.get("/admin/accounts", params={"q": str(customer.account_id)})
    assert f"/admin/accounts/{customer.account_id}" in by_id.text
    for sort in ("email", "plan", "status", "credits", "requests", "activity", "bogus"):
        assert (
            client.get("/admin/accounts", params={"sort": sort, "order": "desc"}).status_code == 200
        )


def test_actions_are_done_audited_and_redirect(app: InProcess) -> None:
    client, csrf, operator = operator_client(app)
    customer = person(app.stack)
    base = f"/admin/accounts/{customer.account_id}"
    steps = [
        ("plan", {"plan": "business"}),
        ("credits", {"amount": "50", "reason": "welcome"}),
        ("status", {"status": "suspended", "reason": "unpaid invoice"}),
        ("limits", {"rate_per_minute": "9", "max_keys": "3"}),
    ]
    for action, fields in steps:
        answer = client.post(
            f"{base}/{action}", data={**fields, "csrf_token": csrf}, follow_redirects=False
        )
        assert answer.status_code == 303, (action, answer.text[:300])
        assert answer.headers["location"] == f"{base}?done={action}"
    with transaction(app.stack.sessions) as session:
        account = accounts.get_by_id(session, customer.account_id)
        assert account.plan.name == "business"
        assert account.status_reason == "unpaid invoice"
        assert account.overrides.rate_per_minute == 9
        assert payg.payg_balance(session, customer.account_id) == 50_000
        logged = operator_log.recent(session, customer.account_id)
    assert [entry.action.value for entry in logged] == [
        "limits_changed",
        "status_changed",
        "credits_granted",
        "plan_changed",
    ]
    assert {entry.actor for entry in logged} == {f"console:{operator.email}"}
    # The test client has no IP address ("testclient"): the browser test checks the IP.
    page = client.get(base)
    assert "unpaid invoice" in page.text and " style=" not in page.text


def test_forms_need_the_csrf_token(app: InProcess) -> None:
    client, _, _ = operator_client(app)
    customer = person(app.stack)
    answer = client.post(
        f"/admin/accounts/{customer.account_id}/plan",
        data={"plan": "business"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    with transaction(app.stack.sessions) as session:
        assert accounts.get_by_id(session, customer.account_id).plan.name == "starter"


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("plan", {"plan": "platinum"}),
        ("credits", {"amount": "-3"}),
        ("credits", {"amount": "0.0001"}),
        ("credits", {"amount": "lots"}),
        ("credits", {"amount": "1e400"}),
        ("status", {"status": "deleted"}),
        ("limits", {"rate_per_minute": "1.5"}),
        ("limits", {"max_keys": "99999999999999"}),
        ("keys/key_0000000000000000/revoke", {}),
    ],
)
def test_bad_input_is_a_clear_4xx(app: InProcess, action: str, fields: dict[str, str]) -> None:
    client, csrf, _ = operator_client(app)
    customer = person(app.stack)
    answer = client.post(
        f"/admin/accounts/{customer.account_id}/{action}", data={**fields, "csrf_token": csrf}
    )
    assert 400 <= answer.status_code < 500, answer.text[:300]
    assert 'data-testid="console-error"' in answer.text


def test_unknown_accounts_and_ids_are_4xx(app: InProcess) -> None:
    client, _, _ = operator_client(app)
    assert client.get("/admin/accounts/2000000000").status_code == 404
    assert client.get("/admin/accounts/99999999999999999999").status_code == 400
    assert client.get("/admin/accounts", params={"page": "-4"}).status_code == 200


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_a_request_is_approved_and_the_customer_sees_it(app: InProcess) -> None:
    customer = person(app.stack)
    owner, owner_csrf = client_of(app, customer)
    card = owner.get("/account").text
    assert 'data-testid="plan-request-form"' in card
    asked = owner.post(
        "/account/plan-request",
        data={"plan": "business", "purpose": "a shop's product photos", "csrf_token": owner_csrf},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    assert 'data-testid="plan-request-status">pending' in owner.get("/account").text
    again = owner.post(
        "/account/plan-request",
        data={"plan": "business", "purpose": "again", "csrf_token": owner_csrf},
    )
    assert again.status_code == 409

    client, csrf, _ = operator_client(app)
    queue = client.get("/admin/requests").text
    assert "a shop&#39;s product photos" in queue or "a shop's product photos" in queue
    request_id = re.search(r"/admin/requests/(\d+)/decide", queue)
    assert request_id
    decided = client.post(
        f"/admin/requests/{request_id.group(1)}/decide",
        data={"decision": "approve", "answer": "Welcome aboard", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    twice = client.post(
        f"/admin/requests/{request_id.group(1)}/decide",
        data={"decision": "decline", "csrf_token": csrf},
    )
    assert twice.status_code == 409
    with transaction(app.stack.sessions) as session:
        assert accounts.get_by_id(session, customer.account_id).plan.name == "business"


def test_only_owners_and_admins_may_request(app: InProcess) -> None:
    from bgone.domain import members, users
    from bgone.domain.members import MemberChange
    from bgone.domain.roles import EVERYTHING, Role

    customer = person(app.stack)
    with transaction(app.stack.sessions) as session:
        developer = users.create_user(session, f"dev-{customer.email}")
        members.add_member(
            session,
            MemberChange(customer.account_id, EVERYTHING, "tests"),
            developer.id,
            Role.DEVELOPER,
        )
    client, csrf = client_of(app, Person(developer.id, customer.account_id, developer.email))
    assert 'data-testid="plan-request-form"' not in client.get("/account").text
    answer = client.post(
        "/account/plan-request", data={"plan": "business", "purpose": "x", "csrf_token": csrf}
    )
    assert answer.status_code == 403


def test_a_self_serve_plan_is_switched_at_once_with_the_trial_once(app: InProcess) -> None:
    customer = person(app.stack)
    owner, csrf = client_of(app, customer)
    answer = owner.post(
        "/account/plan-request",
        data={"plan": "enterprise", "purpose": "testing", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "plan=switched" in answer.headers["location"]
    with transaction(app.stack.sessions) as session:
        assert accounts.get_by_id(session, customer.account_id).plan.name == "enterprise"
        assert payg.payg_balance(session, customer.account_id) == 5000
        assert payg.grant_trial(session, customer.account_id, 5000) is False
    same = owner.post(
        "/account/plan-request",
        data={"plan": "enterprise", "purpose": "again", "csrf_token": csrf},
    )
    assert same.status_code == 400


def test_plans_page_edits_a_plan(app: InProcess) -> None:
    client, csrf, _ = operator_client(app)
    page = client.get("/admin/plans")
    assert 'data-testid="plan-business"' in page.text
    answer = client.post(
        "/admin/plans/enterprise",
        data={
            "rate_per_minute": "600",
            "staging_rate_per_minute": "5",
            "monthly_credits": "1000",
            "max_megapixels": "50",
            "max_keys": "40",
            "api_access": "on",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert (
        client.post(
            "/admin/plans/nosuch", data={"csrf_token": csrf, "api_access": "on"}
        ).status_code
        == 400
    )
    with transaction(app.stack.sessions) as session:
        entry = operator_log.recent(session)[0]
    assert entry.action.value == "plan_edited" and entry.detail.startswith("enterprise:")


def test_fleet_and_log_pages(app: InProcess) -> None:
    client, _, _ = operator_client(app)
    fleet = client.get("/admin/fleet")
    assert fleet.status_code == 200
    assert 'data-testid="database-state">ok' in fleet.text
    assert 'data-testid="replicas"' in fleet.text
    log = client.get("/admin/log")
    assert log.status_code == 200 and 'data-testid="global-log"' in log.text


def test_the_usage_csv_of_an_account_for_a_month(app: InProcess) -> None:
    client, _, _ = operator_client(app)
    customer = person(app.stack, "business")
    answer = client.get(
        f"/admin/accounts/{customer.account_id}/usage.csv", params={"month": "2026-11"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert f"bgone-usage-{customer.account_id}-2026-11.csv" in answer.headers["content-disposition"]
    assert answer.text.splitlines()[0].startswith("day,")
    assert (
        client.get(
            f"/admin/accounts/{customer.account_id}/usage.csv", params={"month": "13"}
        ).status_code
        == 400
    )
    assert client.get("/admin/accounts/2000000000/usage.csv").status_code == 404


def test_the_csv_form_defaults_to_this_month(app: InProcess) -> None:
    client, _, _ = operator_client(app)
    customer = person(app.stack, "business")
    page = client.get(f"/admin/accounts/{customer.account_id}").text
    month = re.search(r'type="month" name="month" value="(\d{4}-\d{2})"', page)
    assert month
    answer = client.get(
        f"/admin/accounts/{customer.account_id}/usage.csv", params={"month": month.group(1)}
    )
    assert answer.status_code == 200
