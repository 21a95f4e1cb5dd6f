"""The account page's leaked-key banner (until dismissed) and its 'warn only' choice, both
forms behind the CSRF token, neither with an inline style or script (strict CSP)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bgone.db.engine import transaction
from bgone.domain.web_sessions import COOKIE_NAME, start_session
from tests.unit.inprocess import InProcess

URL = "https://github.com/octo/app/blob/0a1b2c/.env"


class SignedIn:
    def __init__(self, app: InProcess) -> None:
        self.app = app
        self.account_id = app.stack.account("business")
        with transaction(app.stack.sessions) as session:
            token, web_session = start_session(session, self.account_id, None)
        self.csrf = web_session.csrf_token
        app.client.cookies.set(COOKIE_NAME, token)

    def page(self) -> str:
        response = self.app.client.get("/account")
        assert response.status_code == 200, response.text
        return response.text

    def report(self, key: str) -> None:
        alert = [{"token": key, "type": "bgone_api_key", "url": URL, "source": "content"}]
        assert self.app.client.post("/v1/keys/leaked", json=alert).status_code == 202


@pytest.fixture
def owner(app: InProcess) -> Iterator[SignedIn]:
    signed_in = SignedIn(app)
    try:
        yield signed_in
    finally:
        app.client.cookies.clear()


def banners(page: str) -> list[str]:
    return re.findall(r'<div class="notice warn leak-banner".*?</div>', page, re.S)


def test_a_revoked_key_s_banner_shows_until_dismissed(app: InProcess, owner: SignedIn) -> None:
    assert banners(owner.page()) == []
    owner.report(app.stack.key(owner.account_id))
    (banner,) = banners(owner.page())
    assert "A key was reported as leaked at" in banner and f'href="{URL}"' in banner
    assert re.search(r"on \d{4}-\d\d-\d\d \d\d:\d\d UTC:\s+revoked\.", banner)
    assert "style=" not in banner and "<script" not in banner
    report_id = re.search(r"/account/leak-reports/(\d+)/dismiss", banner)
    assert report_id is not None
    refused = app.client.post(f"/account/leak-reports/{report_id[1]}/dismiss", data={})
    assert refused.status_code == 403
    assert len(banners(owner.page())) == 1
    dismissed = app.client.post(
        f"/account/leak-reports/{report_id[1]}/dismiss",
        data={"csrf_token": owner.csrf},
        follow_redirects=False,
    )
    assert dismissed.status_code == 303
    assert banners(owner.page()) == []


def test_warn_only_is_chosen_on_the_account_page(app: InProcess, owner: SignedIn) -> None:
    key = app.stack.key(owner.account_id)
    form = app.client.post("/account/leaked-keys", data={"warn_only": "1"})
    assert form.status_code == 403  # no CSRF token
    saved = app.client.post(
        "/account/leaked-keys",
        data={"warn_only": "1", "csrf_token": owner.csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = owner.page()
    assert re.search(r'name="warn_only" value="1"\s+checked', page)
    owner.report(key)
    (banner,) = banners(owner.page())
    assert "flagged (warn only" in banner
    assert app.client.get("/v1/account", headers={"x-api-key": key}).status_code == 200
    back = app.client.post(
        "/account/leaked-keys", data={"csrf_token": owner.csrf}, follow_redirects=False
    )
    assert back.status_code == 303
    owner.report(key)
    assert app.client.get("/v1/account", headers={"x-api-key": key}).status_code == 401
