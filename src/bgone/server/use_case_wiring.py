"""The use cases the front ends call (accounts, keys, sign-in, removal), built on first use."""

from __future__ import annotations

from functools import cached_property

from bgone.inference.options import Quality
from bgone.infra.account_slots import AccountSlots
from bgone.infra.refusal_pacing import PacingOptions, RefusalPacer
from bgone.server.event_wiring import EventUseCases
from bgone.services.account_closing import AccountClosing
from bgone.services.account_security import AccountSecurity
from bgone.services.account_summary import AccountSummaries
from bgone.services.authentication import Authenticator
from bgone.services.idempotency import IdempotencyService
from bgone.services.improve import ImproveService, submissions_folder
from bgone.services.invitations import InvitationService
from bgone.services.keys import KeyService
from bgone.services.leaks import LeakReports
from bgone.services.login import DashboardLogin
from bgone.services.members import MemberService
from bgone.services.operator_console import OperatorConsole
from bgone.services.plan_decisions import PlanDecisions
from bgone.services.plan_requests import PlanRequests
from bgone.services.removal import RemovalPools, RemovalService
from bgone.services.shown_once import ShownOnceSecrets
from bgone.services.two_factor import TwoFactorService
from bgone.services.usage_report import UsageReports


class AccountUseCases(EventUseCases):
    """The use cases of accounts, keys, sign-in, usage and removal (they publish events)."""

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

    @cached_property
    def improve(self) -> ImproveService:
        folder = submissions_folder(self.settings.data_dir)
        return ImproveService(self.sessions, self.fetcher, folder)
