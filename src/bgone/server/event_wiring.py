"""Events and webhooks on the deployment's task queue, built on first use from the parts."""

from __future__ import annotations

import logging
from functools import cached_property

from huey import Huey

from bgone.domain.authentication import KeyContext
from bgone.domain.webhook_events import JobCompletedData, JobFailedData
from bgone.infra.task_queue import build_task_queue
from bgone.infra.url_fetch import parse_networks
from bgone.infra.webhook_sender import WebhookSender
from bgone.server.service_parts import ServiceParts
from bgone.services.jobs import JobSummary
from bgone.services.webhook_delivery import DeliveryAttempts
from bgone.services.webhook_events import EventPublisher
from bgone.services.webhook_fanout import EventFanOut
from bgone.services.webhook_tasks import WebhookTasks
from bgone.services.webhooks import WebhookService

log = logging.getLogger(__name__)


class EventUseCases(ServiceParts):
    """The task queue, webhooks and the events the use cases publish."""

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
