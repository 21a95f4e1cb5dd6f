"""Client addresses are checked with `ipaddress` before anything stores them: whatever a
proxy put in X-Forwarded-For (uvicorn trusts a loopback peer's), a non-address is None."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bgone.db.tables import ApiKeyRow, AuditEventRow, UsageRecordRow
from bgone.server.client_address import storable_address
from tests.unit.inprocess import InProcess

FORWARDED_GARBAGE = "203.0.113.7, 198.51.100.23, 192.0.2.1, 203.0.113.250, 10.0.0.1"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:DB8::1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1%eth0"),
        ("fe80::1%" + "z" * 60, None),  # an address, but longer than the column
        (FORWARDED_GARBAGE, None),
        ("x" * 60, None),
        ("testclient", None),
        ("", None),
        (None, None),
    ],
)
def test_only_addresses_are_stored(sent: str | None, stored: str | None) -> None:
    assert storable_address(sent) == stored


def test_a_request_from_a_garbled_address_is_served_and_stores_no_address(
    app: InProcess,
) -> None:
    key = app.stack.key(app.stack.account("business"))
    garbled = TestClient(app.client.app, client=(FORWARDED_GARBAGE, 50000))

    response = garbled.post("/api/keys", headers={"x-api-key": key}, json={"name": "ci"})

    assert response.status_code == 201, response.text
    created = response.json()["data"]["id"]
    request_id = response.headers["x-request-id"]
    with app.stack.sessions() as session:
        event = session.scalars(select(AuditEventRow).where(AuditEventRow.key_id == created)).one()
        row = session.scalars(
            select(UsageRecordRow).where(UsageRecordRow.request_id == request_id)
        ).one()
        used = session.scalars(
            select(ApiKeyRow).where(ApiKeyRow.account_id == row.account_id, ApiKeyRow.id != created)
        ).one()
    assert event.ip is None
    assert row.status == 201
    assert used.last_used_at is not None and used.last_used_ip is None
