"""`bgone plans`: the plans are data the operator edits (the `plans` table)."""

from __future__ import annotations

import typer

from bgone.cli.common import console, run_in_database
from bgone.cli.keys import operator_key_service
from bgone.cli.operators import CLI, operator_console
from bgone.domain import plans
from bgone.domain.plan_requests import RequestState
from bgone.domain.plans import Plan, PlanChanges
from bgone.infra.mailer import Mailer
from bgone.services.plan_decisions import PlanDecisions
from bgone.settings import Settings

plans_app = typer.Typer(help="List and edit the plans accounts are on.", no_args_is_help=True)


def _line(plan: Plan) -> str:
    return (
        f"{plan.name} ({plan.display_name}): {plan.rate_per_minute}/min "
        f"(staging {plan.staging_rate_per_minute}/min), "
        f"{plan.monthly_credits_milli / 1000:g} credits/month, "
        f"max {plan.max_megapixels:g} MP, max {plan.max_keys} keys, "
        f"API access: {'yes' if plan.api_access else 'no'}"
    )


@plans_app.command("list")
def list_command() -> None:
    """Every plan and its limits."""
    for plan in run_in_database(Settings(), plans.list_plans):
        console.print(_line(plan))


@plans_app.command("set")
def set_command(
    plan: str = typer.Argument(...),
    rate_per_minute: int | None = typer.Option(None, min=0),
    monthly_credits: float | None = typer.Option(None, min=0),
    max_megapixels: float | None = typer.Option(None, min=0),
    max_keys: int | None = typer.Option(None, min=0),
    api_access: bool | None = typer.Option(None, "--api-access/--no-api-access"),
    staging_rate_per_minute: int | None = typer.Option(None, min=0),
) -> None:
    """Change a plan's limits; unset options keep their value. Accounts on the plan follow
    at once unless they have their own (`bgone accounts set-limits`)."""
    changes = PlanChanges(
        api_access=api_access,
        rate_per_minute=rate_per_minute,
        staging_rate_per_minute=staging_rate_per_minute,
        monthly_credits_milli=None if monthly_credits is None else round(monthly_credits * 1000),
        max_megapixels=max_megapixels,
        max_keys=max_keys,
    )
    with operator_console(Settings()) as service:
        changed = service.edit_plan(CLI, plan, changes)
    console.print(_line(changed))


@plans_app.command("requests")
def requests_command(
    every: bool = typer.Option(False, "--all", help="Answered requests too, newest first."),
) -> None:
    """Customers' plan requests waiting for an answer (the console's queue)."""
    with operator_console(Settings()) as service:
        found = service.requests(None if every else RequestState.PENDING)
    if not found:
        console.print("no plan requests" if every else "no plan request is waiting")
    for asked in found:
        answer = f" ({asked.answer})" if asked.answer else ""
        console.print(
            f"{asked.id}: account {asked.account_id} ({asked.account_email}) asks for "
            f"{asked.plan}, {asked.requested_at:%Y-%m-%d %H:%M}Z, {asked.state.value}{answer}: "
            f"{asked.purpose}"
        )


def _decide(request_id: int, approve: bool, message: str) -> None:
    """As the console answers: mailed when BGONE_SMTP_URL is set, before the command ends."""
    settings = Settings()
    mailer = Mailer.from_url(settings.smtp_url, settings.mail_sender)
    try:
        with operator_key_service(settings) as keys:
            decided = PlanDecisions(keys, mailer).decide(CLI, request_id, approve, message)
    finally:
        if mailer is not None:
            mailer.close()
    console.print(
        f"request {decided.id} {decided.state.value}: account {decided.account_id} "
        f"({decided.account_email}) {'is now on' if approve else 'stays off'} {decided.plan}"
    )


MESSAGE_HELP = "Shown to the customer on their account page (and emailed)."


@plans_app.command("approve")
def approve(
    request_id: int = typer.Argument(..., min=1),
    message: str = typer.Option("", "--message", help=MESSAGE_HELP),
) -> None:
    """Approve a plan request: the account moves to the plan at once."""
    _decide(request_id, True, message)


@plans_app.command("decline")
def decline(
    request_id: int = typer.Argument(..., min=1),
    message: str = typer.Option("", "--message", help=MESSAGE_HELP),
) -> None:
    """Decline a plan request, with a message for the customer."""
    _decide(request_id, False, message)
