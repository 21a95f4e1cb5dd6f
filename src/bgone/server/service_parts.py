"""The parts a running server holds, opened once (`Services.open`) and closed at exit.

The use cases are built from these on first use, by the classes that extend it: events and
webhooks (bgone.server.event_wiring), the account, key and removal use cases
(bgone.server.use_case_wiring), the jobs (bgone.server.job_wiring); `Services`
(bgone.server.container) is all of them, and opens and closes the parts.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bgone.db.engine import SessionFactory, WalCheckpointer
from bgone.domain.authentication import KeyContext
from bgone.inference.protocols import RemoverProtocol
from bgone.infra.heartbeat import HeartbeatWriter
from bgone.infra.keycache import KeyCache
from bgone.infra.mailer import Mailer
from bgone.infra.ratelimit import RateLimiter
from bgone.infra.shared_pool import AccountSharedPool
from bgone.infra.url_fetch import UrlFetcher
from bgone.infra.usage_writer import UsageWriter
from bgone.security.hashing import SecretRing
from bgone.security.report_signatures import ScannerKeys
from bgone.server.job_tasks import JobConsumer
from bgone.services.jobs import JobFinishedCallback
from bgone.settings import Settings


class KeyUsageThrottle:
    """Writes a key's 'last used' at most every `interval`, not on every request."""

    def __init__(self, interval: timedelta = timedelta(seconds=30)) -> None:
        self.interval = interval
        self._last: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def due(self, key_id: str, at: datetime) -> bool:
        with self._lock:
            previous = self._last.get(key_id)
            if previous is not None and at - previous < self.interval:
                return False
            self._last[key_id] = at
            return True


@dataclass
class ServiceParts:
    """Opened by `Services.open`; every use case is built from these."""

    settings: Settings
    engine: Engine
    sessions: SessionFactory
    read_sessions: SessionFactory  # for transactions that only read
    ring: SecretRing
    remover: RemoverProtocol
    limiter: RateLimiter
    key_cache: KeyCache[KeyContext]
    gate: AccountSharedPool  # the pipeline's pool (inference); /readyz reports it
    downloads: AccountSharedPool
    decoding: AccountSharedPool
    fetcher: UrlFetcher
    key_usage: KeyUsageThrottle
    usage_writer: UsageWriter
    checkpointer: WalCheckpointer
    # None without BGONE_SMTP_URL: nothing is mailed (services/account_security.py).
    mailer: Mailer | None = None
    # None without BGONE_LEAK_REPORT_PUBLIC_KEYS: leaked-key reports are not signature-checked.
    scanner_keys: ScannerKeys | None = None
    # (account id, key environment) -> (monotonic time, /v1/account document)
    account_documents: dict[tuple[int, str], tuple[float, bytes]] = field(default_factory=dict)
    # This process in the fleet (bgone.domain.fleet): its id and the heartbeat writer.
    replica_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    )
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    heartbeat: HeartbeatWriter | None = None
    # Told once of every job that ends (the webhooks' job.completed / job.failed).
    job_finished_callbacks: list[JobFinishedCallback] = field(default_factory=list)
    # The consumer this process runs, if any (`bgone worker`, or the embedded `bgone serve`).
    job_consumer: JobConsumer | None = None

    def forget_account_document(self, account_id: int) -> None:
        """This replica charged the account: its next /v1/account is recomputed."""
        for key in [key for key in self.account_documents if key[0] == account_id]:
            self.account_documents.pop(key, None)
