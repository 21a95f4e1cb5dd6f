"""Batch jobs: their tasks, use cases, runner, upkeep and consumer, built on first use."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import cached_property

from bgone.infra.task_queue import ConsumerPlan
from bgone.server.job_tasks import JobConsumer, JobTasks
from bgone.server.use_case_wiring import AccountUseCases
from bgone.services.job_inputs import JobInputs
from bgone.services.job_runner import JobRunner
from bgone.services.job_upkeep import JobUpkeep
from bgone.services.jobs import JobService


class JobUseCases(AccountUseCases):
    """Batch jobs, which run items through the removal use case."""

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
