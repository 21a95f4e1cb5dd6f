"""The account page's "key revoked" notice names only a revoked key of the signed-in account:
the `?revoked=` parameter is anyone's to write into a link."""

from __future__ import annotations

from pathlib import Path

from bgone.db.engine import transaction
from bgone.domain import api_keys
from bgone.domain.web_sessions import COOKIE_NAME, start_session
from bgone.security.hashing import load_secret_ring
from tests.unit.inprocess import InProcess, in_process_app

NOTICE = "was revoked; requests with it now get 401"


def signed_in_with_keys(app: InProcess) -> tuple[str, str]:
    """Signs the test client in; returns a revoked and an active key id of its account."""
    account_id = app.stack.account("business")
    ring = load_secret_ring(app.stack.settings)
    with transaction(app.stack.sessions) as session:
        token, _ = start_session(session, account_id, None)
        made = [
            api_keys.create_key(session, account_id, name, "production", "tests", ring)
            for name in ("old", "current")
        ]
        api_keys.revoke(session, account_id, made[0].record.id, "tests")
    app.client.cookies.set(COOKIE_NAME, token)
    return made[0].record.id, made[1].record.id


def test_the_notice_names_a_revoked_key_of_the_account(tmp_path: Path) -> None:
    with in_process_app(tmp_path) as app:
        revoked, _ = signed_in_with_keys(app)
        page = app.client.get("/account", params={"revoked": revoked}).text
    assert f"Key {revoked} {NOTICE}" in page


def test_any_other_text_shows_no_notice(tmp_path: Path) -> None:
    with in_process_app(tmp_path) as app:
        _, active = signed_in_with_keys(app)
        other = app.stack.account("business")
        with transaction(app.stack.sessions) as session:
            foreign = api_keys.create_key(
                session,
                other,
                "theirs",
                "production",
                "tests",
                load_secret_ring(app.stack.settings),
            ).record.id
        for text in ["Call +1 555 0100 to restore access", active, foreign]:
            page = app.client.get("/account", params={"revoked": text}).text
            assert NOTICE not in page, text
            assert "555 0100" not in page
