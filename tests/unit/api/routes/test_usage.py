"""`GET /v1/usage` in process: JSON and CSV, the same columns in the same order, its 400
codes, production keys only; and the account page's monthly CSV from a signed-in session."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import ApiKeyRow
from bgone.domain import metering
from bgone.domain.usage import UsageEntry
from bgone.domain.web_sessions import COOKIE_NAME, start_session
from tests.unit.inprocess import InProcess, assert_error

DAY = datetime(2026, 3, 4, 10, tzinfo=UTC)
RANGE = {"from": "2026-03-01", "to": "2026-04-01"}


def seeded(app: InProcess) -> tuple[int, str, str]:
    """An account with one production key and three requests on 4 March 2026."""
    account_id = app.stack.account("business")
    key = app.stack.key(account_id)
    with transaction(app.stack.sessions) as session:
        key_id = session.scalars(select(ApiKeyRow.id).where(ApiKeyRow.account_id == account_id))
        found = key_id.one()
        metering.write_final_rows(
            session,
            [
                metering.FinalRow(
                    UsageEntry(f"{found}-{n}", DAY, "POST /v2", status, account_id, found, None, c)
                )
                for n, (status, c) in enumerate([(200, 1000), (200, 250), (402, 0)])
            ],
        )
    return account_id, key, found


@pytest.fixture
def account(app: InProcess) -> Iterator[tuple[int, str, str]]:
    yield seeded(app)
    app.client.cookies.clear()


def test_json_by_day_and_key(app: InProcess, account: tuple[int, str, str]) -> None:
    _, key, key_id = account
    response = app.client.get(
        "/v1/usage", params={**RANGE, "group_by": "key,day"}, headers={"x-api-key": key}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["group_by"] == ["day", "key"]
    assert body["columns"] == [
        "day",
        "key_id",
        "key_name",
        "requests",
        "failed_requests",
        "credits",
        "megapixels",
    ]
    assert body["rows"] == [
        {
            "day": "2026-03-04",
            "key_id": key_id,
            "key_name": "tests",
            "requests": 3,
            "failed_requests": 1,
            "credits": 1.25,
            "megapixels": 0.0,
        }
    ]
    assert list(body["rows"][0]) == body["columns"]


def test_csv_has_the_same_columns_in_order(app: InProcess, account: tuple[int, str, str]) -> None:
    key = account[1]
    response = app.client.get(
        "/v1/usage",
        params={**RANGE, "group_by": "month,status"},
        headers={"x-api-key": key, "accept": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [
        ["month", "status", "requests", "failed_requests", "credits", "megapixels"],
        ["2026-03", "200", "2", "0", "1.25", "0.0"],
        ["2026-03", "402", "1", "1", "0.0", "0.0"],
    ]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"group_by": "day,month"}, "invalid_group_by"),
        ({"group_by": "hour"}, "invalid_group_by"),
        ({"from": "2026-03-09", "to": "2026-03-01"}, "invalid_date_range"),
        ({"from": "03/01/2026"}, "invalid_date_range"),
    ],
)
def test_bad_parameters_have_their_codes(
    app: InProcess, account: tuple[int, str, str], params: dict[str, str], code: str
) -> None:
    response = app.client.get("/v1/usage", params=params, headers={"x-api-key": account[1]})
    assert_error(response, 400, code)


def test_staging_keys_may_not_read_usage(app: InProcess, account: tuple[int, str, str]) -> None:
    staging = app.stack.key(account[0], "staging")
    response = app.client.get("/v1/usage", headers={"x-api-key": staging})
    assert_error(response, 403, "production_key_required")


def test_the_account_page_downloads_a_month_as_csv(
    app: InProcess, account: tuple[int, str, str]
) -> None:
    account_id, _, key_id = account
    with transaction(app.stack.sessions) as session:
        token, _ = start_session(session, account_id, None)
    app.client.cookies.set(COOKIE_NAME, token)
    response = app.client.get("/account/usage.csv", params={"month": "2026-03"})
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "day",
        "key_id",
        "key_name",
        "endpoint",
        "status",
        "requests",
        "failed_requests",
        "credits",
        "megapixels",
    ]
    assert rows[1] == ["2026-03-04", key_id, "tests", "POST /v2", "200", "2", "0", "1.25", "0.0"]
    assert app.client.get("/account/usage.csv", params={"month": "March"}).status_code == 400


def test_the_account_page_shows_the_monthly_statement(
    app: InProcess, account: tuple[int, str, str]
) -> None:
    account_id, _, key_id = account
    with transaction(app.stack.sessions) as session:
        token, _ = start_session(session, account_id, None)
    app.client.cookies.set(COOKIE_NAME, token)
    page = app.client.get("/account", params={"statement": "2026-03"})
    assert page.status_code == 200, page.text
    assert 'data-testid="statement"' in page.text
    assert key_id in page.text
    assert "/account/usage.csv" in page.text
