"""A person's sessions list: devices, last seen, ending one, all others, or all."""

from __future__ import annotations

from datetime import timedelta

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import email_verification, session_list, web_sessions
from bgone.domain.session_list import describe_device
from tests.unit.domain.support import NOW, MakeAccount, owner_id

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)


def start(sessions: SessionFactory, account_id: int, agent: str | None, ip: str) -> str:
    with transaction(sessions) as session:
        token, _ = web_sessions.start_session(session, account_id, ip, now=NOW, user_agent=agent)
    return token


def test_devices_are_named_from_the_user_agent() -> None:
    assert describe_device(FIREFOX) == "Firefox on Linux"
    assert describe_device(CHROME_MAC) == "Chrome on macOS"
    assert describe_device(None) == "Unknown device"
    assert describe_device("python-httpx/0.28") == "httpx"


def test_the_list_shows_each_session_with_the_current_one_marked(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, other = make_account(), make_account()
    me = owner_id(sessions, account)
    here = start(sessions, account.id, FIREFOX, "192.0.2.1")
    start(sessions, account.id, CHROME_MAC, "198.51.100.7")
    start(sessions, other.id, FIREFOX, "203.0.113.9")
    with transaction(sessions) as session:
        session_list.touch(session, here, NOW + timedelta(minutes=9))
        entries = session_list.list_sessions(session, me, here, now=NOW)
    assert [(e.device, e.ip, e.current) for e in entries] == [
        ("Firefox on Linux", "192.0.2.1", True),
        ("Chrome on macOS", "198.51.100.7", False),
    ]
    assert entries[0].last_seen_at == NOW + timedelta(minutes=9)
    assert entries[0].id == session_list.session_id(here)


def test_ending_one_session_needs_its_owner(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, other = make_account(), make_account()
    me, them = owner_id(sessions, account), owner_id(sessions, other)
    token = start(sessions, account.id, FIREFOX, "192.0.2.1")
    public_id = session_list.session_id(token)
    with transaction(sessions) as session:
        assert not session_list.end_session_by_id(session, them, public_id)
        assert not session_list.end_session_by_id(session, me, "%")
        assert not session_list.end_session_by_id(session, me, "zz")
        assert session_list.end_session_by_id(session, me, public_id)
    with transaction(sessions) as session:
        assert web_sessions.find_session(session, token, now=NOW) is None


def test_ending_the_others_keeps_this_one(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    me = owner_id(sessions, account)
    here = start(sessions, account.id, FIREFOX, "192.0.2.1")
    there = start(sessions, account.id, CHROME_MAC, "192.0.2.2")
    with transaction(sessions) as session:
        assert session_list.end_sessions(session, me, keep_token=here) == 1
    with transaction(sessions) as session:
        assert web_sessions.find_session(session, here, now=NOW) is not None
        assert web_sessions.find_session(session, there, now=NOW) is None
        assert session_list.end_sessions(session, me) == 1


def test_last_seen_is_written_only_every_few_minutes() -> None:
    assert session_list.last_seen_is_stale(None, NOW)
    assert not session_list.last_seen_is_stale(NOW - timedelta(minutes=1), NOW)
    assert session_list.last_seen_is_stale(NOW - timedelta(minutes=5), NOW)


def test_verification_proves_the_address_it_was_sent_to(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    me = owner_id(sessions, account)
    with transaction(sessions) as session:
        assert email_verification.unverified_email(session, me) is None
        email_verification.require_verification(session, me, "old@example.com", NOW)
        email_verification.require_verification(session, me, "new@example.com", NOW)
        assert not email_verification.mark_verified(session, me, "old@example.com")
        assert email_verification.unverified_email(session, me) == "new@example.com"
        assert email_verification.mark_verified(session, me, "new@example.com")
        assert email_verification.unverified_email(session, me) is None
