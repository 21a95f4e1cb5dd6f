"""Two-factor pages in process: enrol (QR as a data URI, the secret as text, a code to
confirm, ten recovery codes once), the second step after the password, a recovery code once,
the policy sending a person without two-factor to enrol, and turning it off."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pyotp
from fastapi.testclient import TestClient

from bgone.db.engine import transaction
from bgone.domain import members, two_factor
from bgone.domain.clock import utc_now
from bgone.domain.members import MemberChange
from bgone.domain.roles import EVERYTHING, Role
from bgone.infra.ratelimit import limiter_from_url
from bgone.services.two_factor import TwoFactorService
from bgone.web.pages import FORM_COOKIE
from tests.support.teams import Team
from tests.unit.inprocess import InProcess

PASSWORD = "a long enough password"


def form_post(client: TestClient, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    token = secrets.token_urlsafe(16)
    client.cookies.delete(FORM_COOKIE)  # the one the last answer set, too
    client.cookies.set(FORM_COOKIE, token)
    return client.post(path, data={**data, "form_token": token}, follow_redirects=False)


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def signed_up(app: InProcess) -> tuple[TestClient, str]:
    client = TestClient(app.client.app)
    email = f"owner-{secrets.token_hex(4)}@example.com"
    assert form_post(client, "/signup", {"email": email, "password": PASSWORD}).status_code == 303
    return client, email


def enrol(client: TestClient) -> tuple[str, list[str]]:
    page = client.get("/account/two-factor")
    assert 'data-testid="two-factor-start"' in page.text
    started = client.post(
        "/account/two-factor/start", data={"csrf_token": csrf(page.text)}, follow_redirects=False
    )
    assert started.status_code == 303
    page = client.get("/account/two-factor")
    assert re.search(r'<img class="qr" src="data:image/svg\+xml', page.text)
    secret = re.search(r'data-testid="two-factor-secret">([A-Z2-7]+)<', page.text)
    assert secret
    # The previous step's code: the caller's "now" code stays unused for signing in.
    code = pyotp.TOTP(secret.group(1)).at(utc_now() - timedelta(seconds=30))
    done = client.post(
        "/account/two-factor/confirm", data={"code": code, "csrf_token": csrf(page.text)}
    )
    assert done.status_code == 200 and 'data-testid="two-factor-on"' in done.text
    codes = re.findall(r"<li><code>([a-z0-9-]{19})</code></li>", done.text)
    assert len(codes) == 10
    assert " style=" not in done.text
    return secret.group(1), codes


def sign_in_first_step(app: InProcess, email: str) -> TestClient:
    client = TestClient(app.client.app)
    answer = form_post(client, "/login", {"email": email, "password": PASSWORD})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login/two-factor"
    return client


def test_enrol_then_sign_in_with_a_code_once(app: InProcess) -> None:
    owner, email = signed_up(app)
    secret, _ = enrol(owner)
    assert 'data-testid="two-factor-status">on' in owner.get("/account/two-factor").text

    browser = sign_in_first_step(app, email)
    # Half signed in: no dashboard yet.
    assert browser.get("/account", follow_redirects=False).headers["location"].startswith("/login")
    assert browser.get("/login/two-factor").status_code == 200
    wrong = form_post(browser, "/login/two-factor", {"code": "12345x"})
    assert wrong.status_code == 401
    code = pyotp.TOTP(secret).now()
    right = form_post(browser, "/login/two-factor", {"code": code})
    assert right.status_code == 303 and right.headers["location"] == "/account"
    assert browser.get("/account").status_code == 200

    again = sign_in_first_step(app, email)
    assert form_post(again, "/login/two-factor", {"code": code}).status_code == 401


def test_a_recovery_code_works_once(app: InProcess) -> None:
    owner, email = signed_up(app)
    _, codes = enrol(owner)
    browser = sign_in_first_step(app, email)
    used = form_post(browser, "/login/two-factor", {"code": codes[0].upper()})
    assert used.status_code == 303
    assert used.headers["location"] == "/account/two-factor?tf=recovery-used"
    assert "9 recovery codes left" in browser.get("/account/two-factor").text
    again = sign_in_first_step(app, email)
    assert form_post(again, "/login/two-factor", {"code": codes[0]}).status_code == 401


def test_without_a_challenge_the_second_step_sends_back_to_log_in(app: InProcess) -> None:
    browser = TestClient(app.client.app)
    page = browser.get("/login/two-factor", follow_redirects=False)
    assert page.headers["location"] == "/login?two_factor=expired"
    posted = form_post(browser, "/login/two-factor", {"code": "123456"})
    assert posted.headers["location"] == "/login?two_factor=expired"


def test_the_policy_sends_a_person_without_two_factor_to_enrol(app: InProcess) -> None:
    owner, email = signed_up(app)
    page = owner.get("/account/two-factor")
    refused = owner.post(
        "/account/two-factor/policy",
        data={"required": "on", "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert refused.headers["location"].endswith("tf=enrol-first")
    enrol(owner)
    page = owner.get("/account/two-factor")
    on = owner.post(
        "/account/two-factor/policy",
        data={"required": "on", "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert on.headers["location"].endswith("tf=policy-on")
    off = owner.post(
        "/account/two-factor/disable",
        data={"proof": PASSWORD, "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert off.headers["location"].endswith("tf=required-by-account")

    # The operator's reset: the owner signs in with the password, and must enrol again.
    TwoFactorService(app.stack.sessions, app.stack.sessions, limiter_from_url("")).operator_reset(
        email
    )
    browser = TestClient(app.client.app)
    answer = form_post(browser, "/login", {"email": email, "password": PASSWORD})
    assert answer.headers["location"] == "/account"
    sent = browser.get("/account", follow_redirects=False)
    assert sent.headers["location"] == "/account/two-factor?required=1"
    page = browser.get("/account/two-factor?required=1")
    assert 'data-testid="two-factor-required"' in page.text
    keys = browser.post(
        "/account/keys", data={"csrf_token": csrf(page.text)}, follow_redirects=False
    )
    assert keys.headers["location"] == "/account/two-factor?required=1"
    enrol(browser)
    assert browser.get("/account").status_code == 200


def test_turning_off_needs_proof(app: InProcess) -> None:
    owner, email = signed_up(app)
    secret, _ = enrol(owner)
    token = csrf(owner.get("/account/two-factor").text)
    wrong = owner.post(
        "/account/two-factor/disable",
        data={"proof": "not the password", "csrf_token": token},
        follow_redirects=False,
    )
    assert wrong.headers["location"].endswith("tf=wrong-proof")
    off = owner.post(
        "/account/two-factor/disable",
        data={"proof": pyotp.TOTP(secret).now(), "csrf_token": token},
        follow_redirects=False,
    )
    assert off.headers["location"].endswith("tf=disabled")
    browser = TestClient(app.client.app)
    answer = form_post(browser, "/login", {"email": email, "password": PASSWORD})
    assert answer.headers["location"] == "/account"


def test_accepting_an_invitation_with_a_password_still_asks_for_the_second_factor(
    app: InProcess,
) -> None:
    invited, email = signed_up(app)
    enrol(invited)
    team = Team(app.stack)
    _, token = team.invite(Role.VIEWER, email)
    visitor = TestClient(app.client.app)
    page = visitor.get(f"/invite/{token}")
    assert page.status_code == 200
    answer = form_post(visitor, f"/invite/{token}", {"password": PASSWORD})
    # The password is only the first step, here as on the log-in form.
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login/two-factor"
    assert visitor.get("/account", follow_redirects=False).headers["location"].startswith("/login")


def test_switching_into_an_account_that_requires_two_factor_sends_to_enrol(
    app: InProcess,
) -> None:
    """A person in two accounts, without two-factor: free in the first, sent to enrol on
    switching into the second (which requires it), and free again on switching back."""
    relaxed, strict = Team(app.stack), Team(app.stack)
    person = relaxed.by_role[Role.DEVELOPER]
    strict_change = MemberChange(strict.account_id, EVERYTHING, "tests")
    with transaction(app.stack.sessions) as session:
        members.add_member(session, strict_change, person, Role.VIEWER)
        two_factor.set_required(session, strict.account_id, True)
    signed_in = relaxed.session_of(person)
    client = TestClient(app.client.app)
    client.cookies.update(signed_in.cookies)
    assert client.get("/account", follow_redirects=False).status_code == 200

    switched = client.post(
        "/account/switch",
        data={"account_id": str(strict.account_id), "csrf_token": signed_in.csrf},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    sent = client.get("/account", follow_redirects=False)
    assert sent.headers["location"] == "/account/two-factor?required=1"
    # Nor may it act there: a form post is sent to enrol too.
    refused = client.post(
        "/account/origins",
        data={"origins": "https://x.example", "csrf_token": signed_in.csrf},
        follow_redirects=False,
    )
    assert refused.headers["location"] == "/account/two-factor?required=1"
    # Leaving is allowed before enrolling: the account switched back into has no policy.
    back = client.post(
        "/account/switch",
        data={"account_id": str(relaxed.account_id), "csrf_token": signed_in.csrf},
        follow_redirects=False,
    )
    assert back.headers["location"] == "/account"
    assert client.get("/account", follow_redirects=False).status_code == 200
