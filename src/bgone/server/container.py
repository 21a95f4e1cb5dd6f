"""Everything a running server holds: opened once in the app's lifespan, closed at exit."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property

from huey import Huey
from sqlalchemy import Engine, text

from bgone import __version__
from bgone.db.engine import (
    SessionFactory,
    WalCheckpointer,
    make_engine,
    make_read_session_factory,
    make_session_factory,
)
from bgone.db.migrate import upgrade
from bgone.domain import fleet
from bgone.domain.authentication import KeyContext
from bgone.domain.webhook_events import JobCompletedData, JobFailedData
from bgone.inference.engine_config import EngineConfig
from bgone.inference.options import Quality
from bgone.inference.pipeline import Remover
from bgone.inference.protocols import RemoverProtocol
from bgone.infra import metrics
from bgone.infra.account_slots import AccountSlots
from bgone.infra.heartbeat import HeartbeatWriter
from bgone.infra.keycache import KeyCache
from bgone.infra.mailer import Mailer
from bgone.infra.ratelimit import RateLimiter, limiter_from_url
from bgone.infra.refusal_pacing import PacingOptions, RefusalPacer
from bgone.infra.shared_pool import AccountSharedPool, PoolOptions
from bgone.infra.task_queue import ConsumerPlan, build_task_queue
from bgone.infra.url_fetch import UrlFetcher, parse_networks
from bgone.infra.usage_journal import Journal
from bgone.infra.usage_writer import UsageWriter
from bgone.infra.webhook_sender import WebhookSender
from bgone.security.hashing import SecretRing, load_secret_ring
from bgone.security.passwords import dummy_verify
from bgone.security.report_signatures import ScannerKeys
from bgone.server.job_tasks import JobConsumer, JobTasks
from bgone.services.account_closing import AccountClosing
from bgone.services.account_security import AccountSecurity
from bgone.services.account_summary import AccountSummaries
from bgone.services.authentication import Authenticator
from bgone.services.idempotency import IdempotencyService
from bgone.services.improve import ImproveService, submissions_folder
from bgone.services.invitations import InvitationService
from bgone.services.job_inputs import JobInputs
from bgone.services.job_runner import JobRunner
from bgone.services.job_upkeep import JobUpkeep
from bgone.services.jobs import JobFinishedCallback, JobService, JobSummary
from bgone.services.keys import KeyService
from bgone.services.leaks import LeakReports, load_scanner_keys
from bgone.services.login import DashboardLogin
from bgone.services.members import MemberService
from bgone.services.operator_console import OperatorConsole
from bgone.services.plan_decisions import PlanDecisions
from bgone.services.plan_requests import PlanRequests
from bgone.services.removal import RemovalPools, RemovalService
from bgone.services.shown_once import ShownOnceSecrets
from bgone.services.two_factor import TwoFactorService
from bgone.services.usage_report import UsageReports
from bgone.services.webhook_delivery import DeliveryAttempts
from bgone.services.webhook_events import EventPublisher
from bgone.services.webhook_fanout import EventFanOut
from bgone.services.webhook_tasks import WebhookTasks
from bgone.services.webhooks import WebhookService
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
            self.refusal_pacer,
        )

    @cached_property
    def keys(self) -> KeyService:
        return KeyService(
            self.sessions, self.read_sessions, self.ring, self.key_cache, events=self.events
        )

    @cached_property
    def account_closing(self) -> AccountClosing:
        return AccountClosing(self.sessions, self.key_cache)

    @cached_property
    def operator_console(self) -> OperatorConsole:
        return OperatorConsole(self.sessions, self.read_sessions, self.keys)

    @cached_property
    def plan_decisions(self) -> PlanDecisions:
        return PlanDecisions(self.keys, self.mailer)

    @cached_property
    def plan_requests(self) -> PlanRequests:
        return PlanRequests(
            self.keys,
            frozenset(self.settings.self_serve_plans),
            round(self.settings.trial_credits * 1000),
        )

    @cached_property
    def members(self) -> MemberService:
        return MemberService(self.sessions, self.read_sessions, self.keys)

    @cached_property
    def invitations(self) -> InvitationService:
        return InvitationService(
            self.sessions,
            self.read_sessions,
            self.login,
            self.mailer,
            # Mailed links need an address: the default one when none is set.
            self.settings.public_url or self.settings.public_base_url
            if self.mailer is not None
            else self.settings.public_url,
        )

    @cached_property
    def leaks(self) -> LeakReports:
        return LeakReports(
            self.sessions,
            self.read_sessions,
            self.ring,
            self.key_cache,
            self.limiter,
            self.settings.leak_reports_per_minute,
            self.scanner_keys,
            events=self.events,
        )

    @cached_property
    def login(self) -> DashboardLogin:
        return DashboardLogin(
            self.sessions,
            self.read_sessions,
            self.limiter,
            trial_milli=round(self.settings.trial_credits * 1000),
        )

    @cached_property
    def account_security(self) -> AccountSecurity:
        return AccountSecurity(
            self.sessions,
            self.read_sessions,
            self.limiter,
            self.mailer,
            self.settings.public_base_url,
        )

    @cached_property
    def shown_once(self) -> ShownOnceSecrets:
        return ShownOnceSecrets(self.sessions)

    @cached_property
    def two_factor(self) -> TwoFactorService:
        return TwoFactorService(self.sessions, self.read_sessions, self.limiter)

    @cached_property
    def account_summaries(self) -> AccountSummaries:
        return AccountSummaries(self.read_sessions)

    @cached_property
    def usage_reports(self) -> UsageReports:
        return UsageReports(self.read_sessions)

    @cached_property
    def idempotency(self) -> IdempotencyService:
        return IdempotencyService(self.sessions, self.settings.idempotency_max_bytes)

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
            pools=RemovalPools(
                self.downloads,
                self.decoding,
                self.gate,
                AccountSlots(self.gate.share, self.gate.retry_after),
            ),
            on_charged=self.account_charged,
            on_rate_limited=self.rate_limited,
            default_quality=Quality(self.settings.default_quality),
            best_quality_credits=self.settings.best_quality_credits,
            pacer=self.refusal_pacer,
        )

    @cached_property
    def refusal_pacer(self) -> RefusalPacer:
        return RefusalPacer(
            PacingOptions(
                free_per_second=self.settings.refusals_before_delay,
                delay_seconds=self.settings.refusal_delay_seconds,
            )
        )

    # -- the task queue and webhooks ------------------------------------------------------
    @cached_property
    def task_queue(self) -> Huey:
        """The deployment's Huey (bgone.infra.task_queue); a test may set its own first."""
        return build_task_queue(self.settings)

    @cached_property
    def webhook_tasks(self) -> WebhookTasks:
        """The webhook tasks, registered on the queue and bound to their handlers: a process
        touches this before its consumer starts, so every webhook task can run there."""
        tasks = WebhookTasks(self.task_queue)
        tasks.handle_with(
            EventFanOut(self.sessions, tasks),
            DeliveryAttempts(
                self.sessions,
                self.ring,
                WebhookSender.from_strings(
                    self.settings.url_fetch_timeout_seconds,
                    self.settings.url_fetch_allowed_networks,
                ),
                tasks,
                self.mailer,
                self.settings.public_base_url,
                log_retention=self.settings.webhook_log_retention,
            ),
        )
        return tasks

    @cached_property
    def webhooks(self) -> WebhookService:
        return WebhookService(
            self.sessions,
            self.read_sessions,
            self.ring,
            self.webhook_tasks,
            parse_networks(self.settings.url_fetch_allowed_networks),
        )

    @cached_property
    def events(self) -> EventPublisher:
        """Emitting webhook events: enqueue only (bgone.services.webhook_events)."""
        return EventPublisher(self.webhook_tasks)

    @cached_property
    def improve(self) -> ImproveService:
        folder = submissions_folder(self.settings.data_dir)
        return ImproveService(self.sessions, self.fetcher, folder)

    def account_charged(self, account_id: int) -> None:
        self.forget_account_document(account_id)
        try:
            self.events.credits_charged(account_id)  # credits.low, checked on a consumer
        except Exception:  # an event is never worth failing the answer that was charged
            log.exception("credits.low check not queued for account %d", account_id)

    def publish_job_finished(self, job: JobSummary) -> None:
        """job.completed (every item ended, some may have failed) or job.failed (the job
        could not run); to the account's subscribed endpoints and the job's own one."""
        endpoint = (
            self.webhooks.endpoint_for_url(job.account_id, job.webhook_url)
            if job.webhook_url
            else None
        )
        endpoint_id = endpoint.id if endpoint is not None else ""
        if job.state == "completed":
            completed = JobCompletedData(
                job_id=job.job_id,
                status="completed",
                items=job.item_count,
                succeeded=job.succeeded,
                failed=job.failed,
                credits_charged=job.credits_charged_milli / 1000,
            )
            self.events.job_completed(job.account_id, completed, endpoint_id)
        elif job.state == "failed":
            failed = JobFailedData(
                job_id=job.job_id,
                status="failed",
                error_code="job_failed",
                error_detail=f"the job could not run: {job.failed} of {job.item_count} failed",
            )
            self.events.job_failed(job.account_id, failed, endpoint_id)

    def rate_limited(self, caller: KeyContext) -> None:
        try:
            self.events.rate_limit_exceeded(
                caller.account_id, caller.environment.value, caller.rate_per_minute
            )
        except Exception:  # the 429 goes out whatever happens to its event
            log.exception("rate_limit.exceeded not queued for account %d", caller.account_id)

    @cached_property
    def job_tasks(self) -> JobTasks:
        return JobTasks(self.task_queue, lambda: self.job_runner)

    @cached_property
    def job_inputs(self) -> JobInputs:
        return JobInputs(self.settings.results_path / "jobs", self.settings.max_upload_bytes)

    @cached_property
    def jobs(self) -> JobService:
        return JobService(
            sessions=self.sessions,
            read_sessions=self.read_sessions,
            removal=self.removal,
            inputs=self.job_inputs,
            enqueue=self.job_tasks.enqueue,
            max_items=self.settings.job_max_items,
            retention=self.settings.job_retention,
            on_job_finished=self.job_finished_callbacks,
        )

    @cached_property
    def job_runner(self) -> JobRunner:
        return JobRunner(
            sessions=self.sessions,
            removal=self.removal,
            limiter=self.limiter,
            inputs=self.job_inputs,
            lease=timedelta(seconds=self.settings.job_lease_seconds),
            retention=self.settings.job_retention,
            on_job_finished=self.job_finished_callbacks,
        )

    @cached_property
    def job_upkeep(self) -> JobUpkeep:
        return JobUpkeep(
            sessions=self.sessions,
            inputs=self.job_inputs,
            enqueue=self.job_tasks.enqueue,
            lease=timedelta(seconds=self.settings.job_lease_seconds),
            retention=self.settings.job_retention,
            on_job_finished=self.job_finished_callbacks,
            queue_is_drained=self.job_tasks.queue_is_drained,
        )

    def job_consumer_for(self, loop: asyncio.AbstractEventLoop) -> JobConsumer:
        """A consumer whose items run on `loop`, with as many threads as the pipeline has:
        the same thread plan, pools and model as a replica's requests."""
        # Built here, on the loop's thread, as the removal use case must be.
        self.job_tasks.bind_loop(loop)
        _ = self.job_runner
        _ = self.webhook_tasks  # the same consumer delivers webhooks: register their tasks
        plan = ConsumerPlan(
            workers=self.settings.pipeline_workers,
            poll_seconds=self.settings.queue_poll_seconds,
            # Huey's scheduler for the webhooks' periodic scan (each slot claimed once); the
            # jobs' reaper is the upkeep thread's.
            periodic=True,
        )
        self.job_consumer = JobConsumer(self.job_tasks, plan, self.job_upkeep)
        return self.job_consumer

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
