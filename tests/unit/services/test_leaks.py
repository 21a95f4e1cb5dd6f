"""LeakReports: malformed keys never reach the database; a real key is revoked (or flagged),
audited and bannered once, and invalidated in the key cache exactly when it was revoked."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy.orm import Session

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import api_keys, audit, leaks
from bgone.domain.leaks import LeakedKeyAction, LeakOutcome
from bgone.infra.ratelimit import LimitsRateLimiter
from bgone.security.hashing import SecretRing
from bgone.security.keys import Environment, generate_key
from bgone.services.leaks import LeakReports, ReportedKey
from tests.unit.domain.support import MakeAccount
from tests.unit.services.support import RecordingKeyCache


class NoDatabase:
    """A session factory any use of which fails the test."""

    def __call__(self) -> Session:
        raise AssertionError("a malformed key reached the database")


@pytest.fixture
def service(
    sessions: SessionFactory,
    ring: SecretRing,
    key_cache: RecordingKeyCache,
    limiter: LimitsRateLimiter,
) -> LeakReports:
    return LeakReports(sessions, sessions, ring, key_cache, limiter, 30)


def issue(
    sessions: SessionFactory, ring: SecretRing, account_id: int, env: str = "production"
) -> tuple[str, str]:
    with transaction(sessions) as session:
        issued = api_keys.create_key(session, account_id, "app", env, "tests", ring)
    return issued.secret, issued.record.id


def test_malformed_keys_are_dropped_without_a_query(
    ring: SecretRing, key_cache: RecordingKeyCache, limiter: LimitsRateLimiter
) -> None:
    no_database = cast(SessionFactory, NoDatabase())
    service = LeakReports(no_database, no_database, ring, key_cache, limiter, 30)
    real_looking = generate_key(Environment.PRODUCTION)
    bad_checksum = real_looking[:-1] + ("A" if real_looking[-1] != "A" else "B")
    service.report(
        [
            ReportedKey(bad_checksum),
            ReportedKey("bgone_live_short"),
            ReportedKey("ghp_" + "a" * 36),
            ReportedKey(real_looking.replace("bgone_live_", "bgone_prod_")),
        ],
        "192.0.2.1",
    )
    assert key_cache.invalidated == []


def test_a_real_key_is_revoked_audited_and_bannered_once(
    service: LeakReports,
    sessions: SessionFactory,
    ring: SecretRing,
    key_cache: RecordingKeyCache,
    make_account: MakeAccount,
) -> None:
    account = make_account()
    secret, key_id = issue(sessions, ring, account.id, "staging")
    url = "https://github.com/octo/app/blob/main/.env"
    service.report([ReportedKey(secret, url, "github:content")], "192.0.2.1")
    service.report([ReportedKey(secret)], "192.0.2.1")  # again: already revoked
    assert key_cache.invalidated == [key_id]
    with transaction(sessions) as session:
        assert api_keys.get_key(session, account.id, key_id).revoked_at is not None
        events = audit.list_for_account(session, account.id)
    reports = service.open_reports(account.id)
    assert [r.outcome for r in reports] == [LeakOutcome.ALREADY_REVOKED, LeakOutcome.REVOKED]
    assert reports[1].source_url == url and reports[1].source == "github:content"
    actions = [e.action for e in events]
    assert actions.count(audit.AuditAction.KEY_LEAK_REPORTED) == 2
    assert actions.count(audit.AuditAction.KEY_REVOKED) == 1
    service.dismiss(account.id, reports[0].id)
    assert [r.id for r in service.open_reports(account.id)] == [reports[1].id]


def test_warn_only_flags_without_revoking(
    service: LeakReports,
    sessions: SessionFactory,
    ring: SecretRing,
    key_cache: RecordingKeyCache,
    make_account: MakeAccount,
) -> None:
    account = make_account()
    secret, key_id = issue(sessions, ring, account.id)
    assert (
        service.set_action(account.id, "warn", "dashboard:o@example.com", None)
        is LeakedKeyAction.WARN
    )
    service.report([ReportedKey(secret)], None)
    assert key_cache.invalidated == []
    with transaction(sessions) as session:
        assert api_keys.get_key(session, account.id, key_id).revoked_at is None
        assert [r.outcome for r in leaks.open_reports(session, account.id)] == [LeakOutcome.FLAGGED]


def test_an_unknown_key_leaves_no_trace(
    service: LeakReports, key_cache: RecordingKeyCache, make_account: MakeAccount
) -> None:
    account = make_account()
    service.report([ReportedKey(generate_key(Environment.PRODUCTION))], None)
    assert key_cache.invalidated == []
    assert service.open_reports(account.id) == []


def test_another_account_cannot_dismiss_a_banner(
    service: LeakReports,
    sessions: SessionFactory,
    ring: SecretRing,
    make_account: MakeAccount,
) -> None:
    owner, stranger = make_account(), make_account()
    secret, _ = issue(sessions, ring, owner.id)
    service.report([ReportedKey(secret)], None)
    (report,) = service.open_reports(owner.id)
    service.dismiss(stranger.id, report.id)
    assert [r.id for r in service.open_reports(owner.id)] == [report.id]
