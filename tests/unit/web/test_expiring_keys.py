"""Expiring keys on the account page: a banner above the keys table and a badge on the key,
from 7 days before it expires; none for a key further off, revoked, or without an expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bgone.db.engine import transaction
from bgone.domain import api_keys
from bgone.security.hashing import load_secret_ring
from tests.unit.inprocess import InProcess
from tests.unit.web.test_key_secret_once import signed_in


def key_expiring_in(app: InProcess, account_id: int, name: str, days: float) -> str:
    with transaction(app.stack.sessions) as session:
        issued = api_keys.create_key(
            session,
            account_id,
            name,
            "production",
            "tests",
            load_secret_ring(app.stack.settings),
            expires_at=datetime.now(UTC) + timedelta(days=days),
        )
    return issued.record.id


def row_of(page: str, key_id: str) -> str:
    start = page.index(f'data-key-id="{key_id}"')
    return page[start : page.index("</tr>", start)]


def test_a_key_expiring_within_seven_days_gets_a_banner_and_a_badge(app: InProcess) -> None:
    account_id = app.stack.account("business")
    soon = key_expiring_in(app, account_id, "soon", 3)
    later = key_expiring_in(app, account_id, "later", 30)
    page = signed_in(app, account_id).get("/account").text

    assert 'data-testid="expiring-banner"' in page
    banner = page[page.index('data-testid="expiring-banner"') :].split("</div>", 1)[0]
    assert soon in banner and later not in banner
    assert 'data-testid="expiring-badge"' in row_of(page, soon)
    assert 'data-testid="expiring-badge"' not in row_of(page, later)


def test_no_banner_when_no_key_expires_soon(app: InProcess) -> None:
    account_id = app.stack.account("business")
    key_expiring_in(app, account_id, "later", 30)
    page = signed_in(app, account_id).get("/account").text
    assert 'data-testid="expiring-banner"' not in page
    assert 'data-testid="expiring-badge"' not in page
