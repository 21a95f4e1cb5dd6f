"""Keys reported as leaked: the one use case behind `POST /v1/keys/leaked` and the banner.

Each reported text is parsed first: a malformed one (wrong prefix, length or checksum) is
dropped without a query. Each real key is revoked (or flagged) with its audit event and its
banner in one transaction, then dropped from the key cache here and, through Redis, on every
other replica, exactly as a revocation from the dashboard is. The reporter's answer never
depends on what was found: the service returns nothing a route could leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import leaks
from bgone.domain.leaks import LeakedKeyAction, LeakReport
from bgone.errors import InvalidReportSignature, TooManyReports
from bgone.infra.ratelimit import RateLimiter
from bgone.security.hashing import SecretRing
from bgone.security.keys import MalformedKey, parse_key
from bgone.security.report_signatures import InvalidScannerKeys, ScannerKeys
from bgone.services.keys import KeyInvalidation
from bgone.services.webhook_events import EventPublisher

MAX_REPORTED_KEYS = 1000  # per request; GitHub sends a handful at a time


def load_scanner_keys(path: Path | None) -> ScannerKeys | None:
    """The keys of BGONE_LEAK_REPORT_PUBLIC_KEYS; a file without any fails start-up."""
    if path is None:
        return None
    try:
        return ScannerKeys.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, InvalidScannerKeys) as error:
        raise InvalidScannerKeys(f"BGONE_LEAK_REPORT_PUBLIC_KEYS ({path}): {error}") from error


@dataclass(frozen=True)
class ReportedKey:
    """One entry of a report: the text, and where the reporter says it was found."""

    token: str
    url: str | None = None
    source: str = "plain"  # e.g. "github:content"


class LeakReports:
    def __init__(
        self,
        sessions: SessionFactory,
        read_sessions: SessionFactory,
        secret_ring: SecretRing,
        key_cache: KeyInvalidation,
        limiter: RateLimiter,
        reports_per_minute: int,
        scanner_keys: ScannerKeys | None = None,
        events: EventPublisher | None = None,
    ) -> None:
        self.events = events  # key.leaked (enqueue only)
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.secret_ring = secret_ring
        self.key_cache = key_cache
        self.limiter = limiter
        self.reports_per_minute = reports_per_minute
        # Set: a scanner's alert (GitHub's format) must be signed by one of these keys.
        self.scanner_keys = scanner_keys

    def admit(self, ip: str | None) -> None:
        """429 too_many_reports beyond the reports allowed per client address and minute
        (blocking with Redis)."""
        decision = self.limiter.hit(f"leak-reports:{ip or 'unknown'}", self.reports_per_minute)
        if not decision.allowed:
            raise TooManyReports(
                f"More than {self.reports_per_minute} leaked-key reports came from your "
                f"address this minute; retry after {decision.retry_after} s.",
                decision.retry_after,
            )

    def check_signature(self, body: bytes, identifier: str | None, signature: str | None) -> None:
        """401 invalid_report_signature for a scanner's alert without a valid signature,
        when the operator configured the scanner's keys; nothing is looked up before."""
        if self.scanner_keys is None or self.scanner_keys.verify(identifier, signature, body):
            return
        raise InvalidReportSignature(
            "This server checks the signature of secret-scanning alerts: the report needs "
            "the Github-Public-Key-Identifier and Github-Public-Key-Signature headers of one "
            "of the scanner's keys, over the body as sent. A plain list of keys needs none."
        )

    def report(self, reported: Sequence[ReportedKey], reporter_ip: str | None) -> None:
        """Handle every well-formed key; returns nothing, whatever was found (blocking)."""
        for entry in reported:
            try:
                parse_key(entry.token)
            except MalformedKey:
                continue  # decided from the text alone: no query
            self._report_one(entry, reporter_ip)

    def _report_one(self, entry: ReportedKey, reporter_ip: str | None) -> None:
        candidates = tuple(self.secret_ring.candidate_digests(entry.token))
        with transaction(self.sessions) as session:
            key = leaks.find_key(session, candidates)
            if key is None:
                return
            handled = leaks.handle_leak(session, key, entry.url, entry.source, reporter_ip)
        if handled.revoked_now:
            self.key_cache.invalidate(handled.report.key_id)
        if self.events is not None:
            report = handled.report
            outcome = "revoked" if handled.revoked_now else report.outcome.value
            self.events.key_leaked(report.account_id, report.key_id, outcome)

    # -- the account's side ------------------------------------------------------------
    def open_reports(self, account_id: int) -> list[LeakReport]:
        with transaction(self.read_sessions) as session:
            return leaks.open_reports(session, account_id)

    def action_of(self, account_id: int) -> LeakedKeyAction:
        with transaction(self.read_sessions) as session:
            return leaks.action_of(session, account_id)

    def dismiss(self, account_id: int, report_id: int) -> bool:
        with transaction(self.sessions) as session:
            return leaks.dismiss(session, account_id, report_id)

    def set_action(
        self, account_id: int, action: LeakedKeyAction | str, actor: str, ip: str | None
    ) -> LeakedKeyAction:
        with transaction(self.sessions) as session:
            return leaks.set_action(session, account_id, action, actor, ip)
