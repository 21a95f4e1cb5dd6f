"""Everything a running server holds: opened once in the app's lifespan, closed at exit.

The parts are bgone.server.service_parts; the use cases built from them on first use are in
bgone.server.event_wiring, bgone.server.use_case_wiring and bgone.server.job_wiring.
"""

from __future__ import annotations

import logging
import socket

from sqlalchemy import text

from bgone import __version__
from bgone.db.engine import (
    WalCheckpointer,
    make_engine,
    make_read_session_factory,
    make_session_factory,
)
from bgone.db.migrate import upgrade
from bgone.domain import fleet
from bgone.domain.authentication import KeyContext
from bgone.inference.engine_config import EngineConfig
from bgone.inference.pipeline import Remover
from bgone.inference.protocols import RemoverProtocol
from bgone.infra import metrics
from bgone.infra.heartbeat import HeartbeatWriter
from bgone.infra.keycache import KeyCache
from bgone.infra.mailer import Mailer
from bgone.infra.ratelimit import limiter_from_url
from bgone.infra.shared_pool import AccountSharedPool, PoolOptions
from bgone.infra.url_fetch import UrlFetcher
from bgone.infra.usage_journal import Journal
from bgone.infra.usage_writer import UsageWriter
from bgone.security.hashing import load_secret_ring
from bgone.security.passwords import dummy_verify
from bgone.server.job_wiring import JobUseCases
from bgone.server.service_parts import KeyUsageThrottle
from bgone.services.leaks import load_scanner_keys
from bgone.settings import Settings

log = logging.getLogger(__name__)


class Services(JobUseCases):
    @classmethod
    def open(
        cls,
        settings: Settings,
        migrate: bool = True,
        remover: RemoverProtocol | None = None,
        warm_side_by_side: bool = True,
    ) -> Services:
        """`remover`: the engine to serve with (tests inject a fake); by default the real one."""
        # A bad BGONE_SMTP_URL fails start-up with its reason, before anything is opened;
        # so does a file of scanner keys that holds none.
        mailer = Mailer.from_url(settings.smtp_url, settings.mail_sender)
        scanner_keys = load_scanner_keys(settings.leak_report_public_keys)
        if migrate:
            upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        checkpointer = WalCheckpointer(engine)
        checkpointer.start()
        remover = remover or Remover(EngineConfig.from_settings(settings))
        # Load the default model now: a missing model fails start-up with the pull command,
        # and the first request (nor the first two side by side) does not pay for loading.
        model = remover.pool.get(settings.default_model)
        if warm_side_by_side:  # an API replica; a worker loads it when it first needs it
            model.load_side_by_side_copy()
        dummy_verify("warm-up")  # its first call builds the dummy hash
        key_cache: KeyCache[KeyContext] = KeyCache(settings.redis_url, settings.redis_key_prefix)
        key_cache.start()
        sessions = make_session_factory(engine)
        share = settings.account_share
        services = cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            read_sessions=make_read_session_factory(engine),
            ring=load_secret_ring(settings),
            remover=remover,
            limiter=limiter_from_url(settings.redis_url, f"{settings.redis_key_prefix}:ratelimit"),
            key_cache=key_cache,
            gate=AccountSharedPool(
                PoolOptions(
                    "inference",
                    settings.pipeline_workers,
                    settings.queue_size,
                    share,
                    wait_stage="queue_wait",
                )
            ),
            downloads=AccountSharedPool(
                PoolOptions("download", settings.download_pool_size, 0, share, 2.0)
            ),
            decoding=AccountSharedPool(
                PoolOptions("decode", settings.decode_pool_size, settings.queue_size, share, 0.1)
            ),
            fetcher=UrlFetcher.from_strings(
                settings.max_upload_bytes,
                settings.url_fetch_timeout_seconds,
                settings.url_fetch_allowed_networks,
            ),
            key_usage=KeyUsageThrottle(),
            usage_writer=UsageWriter(sessions, Journal(settings.data_dir / "journal")),
            checkpointer=checkpointer,
            mailer=mailer,
            scanner_keys=scanner_keys,
        )
        services.job_finished_callbacks.append(services.publish_job_finished)
        # The task queue (and, on PostgreSQL, its tables) is opened at start-up, never by
        # the first request that charges or is refused.
        _ = services.events
        services.heartbeat = HeartbeatWriter(sessions, services.fleet_beat)
        services.heartbeat.start()
        return services

    def fleet_beat(self) -> fleet.Beat:
        """What this replica reports every 10 s (`bgone fleet`)."""
        return fleet.Beat(
            replica_id=self.replica_id,
            version=__version__,
            hostname=socket.gethostname(),
            started_at=self.started_at,
            queue_depth=self.gate.pending,
            pool_use={pool.options.name: pool.pending for pool in self._pools()},
            models=tuple(self.remover.pool.loaded()),
        )

    def _pools(self) -> tuple[AccountSharedPool, ...]:
        return (self.downloads, self.decoding, self.gate)

    def database_ready(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception as error:  # any failure means "not ready", with the reason logged
            metrics.count_database_error("readiness")
            log.warning("database not ready: %s", error)
            return False

    def close(self) -> None:
        if self.job_consumer is not None:
            self.job_consumer.stop()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        for pool in self._pools():
            pool.shutdown()
        self.usage_writer.close()
        self.checkpointer.stop()
        self.key_cache.stop()
        if self.mailer is not None:
            self.mailer.close()
        self.engine.dispose()
