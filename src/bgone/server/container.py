"""Everything a running server holds: opened once in the app's lifespan, closed at exit."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy import Engine, text

from bgone.db.engine import (
    SessionFactory,
    WalCheckpointer,
    make_engine,
    make_read_session_factory,
    make_session_factory,
)
from bgone.db.migrate import upgrade
from bgone.domain.authentication import KeyContext
from bgone.inference.engine_config import EngineConfig
from bgone.inference.options import Quality
from bgone.inference.pipeline import Remover
from bgone.inference.protocols import RemoverProtocol
from bgone.infra.keycache import KeyCache
from bgone.infra.ratelimit import RateLimiter, limiter_from_url
from bgone.infra.url_fetch import UrlFetcher
from bgone.infra.usage_journal import Journal
from bgone.infra.usage_writer import UsageWriter
from bgone.security.hashing import SecretRing, load_secret_ring
from bgone.security.passwords import dummy_verify
from bgone.server.work_queue import InferenceGate
from bgone.services.account_summary import AccountSummaries
from bgone.services.authentication import Authenticator
from bgone.services.invitations import InvitationService
from bgone.services.keys import KeyService
from bgone.services.login import DashboardLogin
from bgone.services.members import MemberService
from bgone.services.removal import RemovalService
from bgone.settings import Settings

log = logging.getLogger(__name__)


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
class Services:
    settings: Settings
    engine: Engine
    sessions: SessionFactory
    read_sessions: SessionFactory  # for transactions that only read
    ring: SecretRing
    remover: RemoverProtocol
    limiter: RateLimiter
    key_cache: KeyCache[KeyContext]
    gate: InferenceGate
    fetcher: UrlFetcher
    key_usage: KeyUsageThrottle
    usage_writer: UsageWriter
    checkpointer: WalCheckpointer
    # (account id, key environment) -> (monotonic time, /v1/account document)
    account_documents: dict[tuple[int, str], tuple[float, bytes]] = field(default_factory=dict)

    @classmethod
    def open(
        cls, settings: Settings, migrate: bool = True, remover: RemoverProtocol | None = None
    ) -> Services:
        """`remover`: the engine to serve with (tests inject a fake); by default the real one."""
        if migrate:
            upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        checkpointer = WalCheckpointer(engine)
        checkpointer.start()
        remover = remover or Remover(EngineConfig.from_settings(settings))
        # Load the default model now: a missing model fails start-up with the pull command,
        # and the first request does not pay for loading.
        remover.pool.get(settings.default_model)
        dummy_verify("warm-up")  # its first call builds the dummy hash
        key_cache: KeyCache[KeyContext] = KeyCache(settings.redis_url, settings.redis_key_prefix)
        key_cache.start()
        sessions = make_session_factory(engine)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            read_sessions=make_read_session_factory(engine),
            ring=load_secret_ring(settings),
            remover=remover,
            limiter=limiter_from_url(settings.redis_url, f"{settings.redis_key_prefix}:ratelimit"),
            key_cache=key_cache,
            gate=InferenceGate(settings.pipeline_workers, settings.queue_size),
            fetcher=UrlFetcher.from_strings(
                settings.max_upload_bytes,
                settings.url_fetch_timeout_seconds,
                settings.url_fetch_allowed_networks,
            ),
            key_usage=KeyUsageThrottle(),
            usage_writer=UsageWriter(sessions, Journal(settings.data_dir / "journal")),
            checkpointer=checkpointer,
        )

    # The use cases the front ends call, built on first use from the parts above.
    @cached_property
    def authenticator(self) -> Authenticator:
        return Authenticator(
            self.sessions,
            self.read_sessions,
            self.ring,
            self.key_cache,
            self.limiter,
            self.settings.invalid_keys_per_minute,
        )

    @cached_property
    def keys(self) -> KeyService:
        return KeyService(self.sessions, self.read_sessions, self.ring, self.key_cache)

    @cached_property
    def members(self) -> MemberService:
        return MemberService(self.sessions, self.read_sessions, self.keys)

    @cached_property
    def invitations(self) -> InvitationService:
        return InvitationService(self.sessions, self.read_sessions, self.login)

    @cached_property
    def login(self) -> DashboardLogin:
        return DashboardLogin(self.sessions, self.read_sessions, self.limiter)

    @cached_property
    def account_summaries(self) -> AccountSummaries:
        return AccountSummaries(self.read_sessions)

    @cached_property
    def removal(self) -> RemovalService:
        # A property, not a field: the use case is told of charges through this container.
        # Built once, on first use (on the event loop, so without a race).
        return RemovalService(
            sessions=self.sessions,
            journal=self.usage_writer.journal,
            limiter=self.limiter,
            fetcher=self.fetcher,
            engine=self.remover,
            work_queue=self.gate,
            on_charged=self.forget_account_document,
            default_quality=Quality(self.settings.default_quality),
            best_quality_credits=self.settings.best_quality_credits,
        )

    def forget_account_document(self, account_id: int) -> None:
        """This replica charged the account: its next /v1/account is recomputed."""
        for key in [key for key in self.account_documents if key[0] == account_id]:
            self.account_documents.pop(key, None)

    def database_ready(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception as error:  # any failure means "not ready", with the reason logged
            log.warning("database not ready: %s", error)
            return False

    def close(self) -> None:
        self.gate.shutdown()
        self.usage_writer.close()
        self.checkpointer.stop()
        self.key_cache.stop()
        self.engine.dispose()
