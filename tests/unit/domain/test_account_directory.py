"""The console's account list on SQLite and PostgreSQL: found by any member's email or the
account id, sorted by each column, paginated, and two statements per page however many
accounts it shows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import Engine, event, update

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import ApiKeyRow, CreditPeriodRow, UsageRollupRow
from bgone.domain import api_keys, members, users
from bgone.domain.account_directory import PAGE_SIZE, DirectoryQuery, SortBy, list_accounts
from bgone.domain.members import MemberChange
from bgone.domain.roles import EVERYTHING, Role
from bgone.security.hashing import SecretRing
from tests.unit.domain.support import NOW, MakeAccount


@contextmanager
def counted(sessions: SessionFactory) -> Iterator[list[str]]:
    """The SELECTs run meanwhile (SQLite's BEGIN is no query of ours)."""
    engine: Engine = sessions.kw["bind"]
    seen: list[str] = []

    def count(*arguments: object) -> None:
        statement = str(arguments[2])
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def usage(sessions: SessionFactory, account_id: int, requests: int, day: date) -> None:
    with transaction(sessions) as session:
        session.add(
            UsageRollupRow(
                account_id=account_id,
                day=day,
                key_id="",
                endpoint="/v1.0/removebg",
                status=200,
                requests=requests,
                credits_milli=requests * 1000,
                megapixels=1.0,
            )
        )


def test_search_by_member_email_or_id(sessions: SessionFactory, make_account: MakeAccount) -> None:
    team = make_account(email="team-owner@example.com")
    other = make_account(email="someone-else@example.com")
    with transaction(sessions) as session:
        person = users.create_user(session, "colleague@shop.example")
        members.add_member(
            session, MemberChange(team.id, EVERYTHING, "tests"), person.id, Role.VIEWER
        )
        by_member = list_accounts(session, DirectoryQuery("COLLEAGUE@shop"), NOW)
        by_id = list_accounts(session, DirectoryQuery(str(other.id)), NOW)
        nothing = list_accounts(session, DirectoryQuery("nobody-at-all"), NOW)
    assert [row.account_id for row in by_member.rows] == [team.id]
    assert other.id in [row.account_id for row in by_id.rows]
    assert nothing.rows == [] and nothing.total == 0 and nothing.pages == 1


def test_columns_and_sorting(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    quiet = make_account(email="a-quiet@example.com")
    busy = make_account(email="b-busy@example.com")
    usage(sessions, busy.id, 40, NOW.date())
    usage(sessions, quiet.id, 3, NOW.date())
    usage(sessions, quiet.id, 500, NOW.date() - timedelta(days=60))  # an earlier month
    with transaction(sessions) as session:
        session.add(
            CreditPeriodRow(account_id=busy.id, period="2025-05", included_milli=1, used_milli=7500)
        )
        issued = api_keys.create_key(session, quiet.id, "k", "production", "tests", ring, now=NOW)
        session.execute(
            update(ApiKeyRow).where(ApiKeyRow.id == issued.record.id).values(last_used_at=NOW)
        )
        by_requests = list_accounts(
            session, DirectoryQuery(sort=SortBy.REQUESTS, descending=True), NOW
        )
        by_credits = list_accounts(
            session, DirectoryQuery(sort=SortBy.CREDITS, descending=True), NOW
        )
        by_email = list_accounts(session, DirectoryQuery("@example.com", SortBy.EMAIL), NOW)
    assert by_requests.rows[0].account_id == busy.id
    assert by_requests.rows[0].requests_this_month == 40
    assert by_credits.rows[0].credits_used == 7.5
    quiet_row = next(row for row in by_email.rows if row.account_id == quiet.id)
    assert quiet_row.requests_this_month == 3 and quiet_row.last_activity == NOW
    emails = [row.email for row in by_email.rows]
    assert emails == sorted(emails)


def test_a_page_is_two_statements_however_many_accounts(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    for number in range(PAGE_SIZE + 5):
        account = make_account(email=f"many-{number:03}@example.com")
        usage(sessions, account.id, number + 1, NOW.date())
    with transaction(sessions) as session, counted(sessions) as statements:
        first = list_accounts(session, DirectoryQuery("many-", SortBy.ACTIVITY), NOW)
        assert len(statements) == 2
        second = list_accounts(session, DirectoryQuery("many-", SortBy.REQUESTS, page=2), NOW)
    assert len(first.rows) == PAGE_SIZE and first.total == PAGE_SIZE + 5 and first.pages == 2
    assert [row.requests_this_month for row in second.rows] == list(range(26, 31))
