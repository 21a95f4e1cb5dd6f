"""`bgone accounts`: operator commands for customer accounts."""

from __future__ import annotations

import sys
from decimal import Decimal

import typer
from sqlalchemy.orm import Session

from bgone.cli.common import console, errors, fail, run_in_database
from bgone.cli.keys import ACCOUNT_HELP, OPERATOR, account_id_of, operator_key_service
from bgone.cli.operators import CLI, log_action, operator_console
from bgone.db.engine import make_engine, make_session_factory
from bgone.db.migrate import upgrade
from bgone.domain import accounts, credits, members, users
from bgone.domain.accounts import Account
from bgone.domain.members import MemberChange
from bgone.domain.operator_log import OperatorAction
from bgone.domain.plan_limits import USE_PLAN_DEFAULT, LimitChanges
from bgone.domain.roles import EVERYTHING, Role, parse_role
from bgone.errors import BgoneError, NotFound
from bgone.infra.ratelimit import limiter_from_url
from bgone.security.passwords import hash_password
from bgone.services.account_security import MIN_PASSWORD_LENGTH, AccountSecurity
from bgone.services.two_factor import TwoFactorService
from bgone.settings import Settings

accounts_app = typer.Typer(help="Create and manage customer accounts.", no_args_is_help=True)


def _find(session: Session, account: str) -> Account:
    return accounts.get_by_id(session, members.account_named(session, account))


def _show(account: Account, remaining: float, payg_left: float = 0.0) -> None:
    limits = accounts.effective_limits(account)
    console.print(f"account {account.id}: {account.email}")
    console.print(
        f"  plan: {account.plan.name} ({account.plan.display_name}), status: {account.status.value}"
    )
    console.print(f"  API access: {'yes' if limits.api_access else 'no'}")
    console.print(
        f"  rate: {limits.rate_per_minute}/min (staging {limits.staging_rate_per_minute}/min)"
    )
    console.print(
        f"  credits: {limits.monthly_credits_milli / 1000:g} per month, "
        f"{remaining:g} left this month, {payg_left:g} pay-as-you-go"
    )
    console.print(f"  max megapixels: {limits.max_megapixels:g}, max keys: {limits.max_keys}")
    console.print(f"  browser origins: {' '.join(account.allowed_origins) or 'none'}")
    if account.status_reason:
        console.print(f"  suspended because: {account.status_reason}")


@accounts_app.command("create")
def create(
    email: str = typer.Argument(...),
    plan: str = typer.Option("starter", "--plan", help="starter, business or enterprise."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read a dashboard password from stdin."
    ),
) -> None:
    """Create an account."""
    password_hash = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        password_hash = hash_password(password) if password else None
    settings = Settings()
    trial = round(settings.trial_credits * 1000)
    account = run_in_database(
        settings,
        lambda s: accounts.create_account(s, email, plan, password_hash, trial_milli=trial),
    )
    log_action(
        OperatorAction.ACCOUNT_CREATED, account.id, f"{account.email} on {account.plan.name}"
    )
    console.print(f"created account {account.id} for {account.email} on {account.plan.name}")


@accounts_app.command("set-plan")
def set_plan(
    account: str = typer.Argument(..., help=ACCOUNT_HELP), plan: str = typer.Argument(...)
) -> None:
    """Move an account to another plan (takes effect at once)."""
    with operator_console(Settings()) as service:
        changed = service.change_plan(CLI, account_id_of(service.keys, account), plan)
    console.print(f"{changed.email} is now on {changed.plan.name}")


@accounts_app.command("set-limits")
def set_limits(
    account: str = typer.Argument(..., help=ACCOUNT_HELP),
    rate_per_minute: int | None = typer.Option(None, min=0),
    monthly_credits: float | None = typer.Option(None, min=0),
    max_megapixels: float | None = typer.Option(None, min=0),
    max_keys: int | None = typer.Option(None, min=0),
    reset: bool = typer.Option(False, "--reset", help="Drop all custom limits."),
) -> None:
    """Custom limits for one account (Enterprise deals); unset options keep their value."""
    settings = Settings()
    changes = LimitChanges(
        rate_per_minute=USE_PLAN_DEFAULT if reset else rate_per_minute,
        monthly_credits_milli=USE_PLAN_DEFAULT
        if reset
        else (round(monthly_credits * 1000) if monthly_credits is not None else None),
        max_megapixels=USE_PLAN_DEFAULT if reset else max_megapixels,
        max_keys=USE_PLAN_DEFAULT if reset else max_keys,
    )
    with operator_console(settings) as service:
        changed = service.change_limits(CLI, account_id_of(service.keys, account), changes)
    _show(changed, *_remaining(settings, changed))


@accounts_app.command("set-status")
def set_status(
    account: str = typer.Argument(..., help=ACCOUNT_HELP),
    status: str = typer.Argument(..., help="active or suspended"),
    reason: str | None = typer.Option(
        None, "--reason", help="Shown to the customer while suspended (the 403's detail)."
    ),
) -> None:
    """Suspend or reactivate an account; recorded in the audit log."""
    with operator_console(Settings()) as service:
        changed = service.change_status(CLI, account_id_of(service.keys, account), status, reason)
    why = f" ({changed.status_reason})" if changed.status_reason else ""
    console.print(f"{changed.email} is now {changed.status.value}{why}")


@accounts_app.command("grant-credits")
def grant_credits(
    account: str = typer.Argument(..., help=ACCOUNT_HELP),
    amount: float = typer.Argument(..., help="Credits, to a thousandth; more than zero."),
    reason: str = typer.Option("", "--reason", help="Why, for the audit log."),
) -> None:
    """Add pay-as-you-go credits: never expire, spent after the month's; audited."""
    try:
        milli = credits.credits_to_milli(Decimal(str(amount)))
    except ValueError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from error
    with operator_console(Settings()) as service:
        balance = service.grant_credits(
            CLI, account_id_of(service.keys, account), milli, reason=reason
        )
    console.print(
        f"granted {milli / 1000:g} credits to account {account.strip().lower()}; "
        f"pay-as-you-go balance {balance / 1000:g}"
    )


@accounts_app.command("set-origins")
def set_origins(
    account: str = typer.Argument(..., help=ACCOUNT_HELP),
    origins: list[str] | None = typer.Argument(
        None, help="e.g. https://tools.example.com; none at all clears the list."
    ),
) -> None:
    """Browser origins allowed to send this account's API keys (refused otherwise)."""
    with operator_key_service(Settings()) as service:
        changed = service.set_allowed_origins(account_id_of(service, account), origins or [])
    allowed = " ".join(changed.allowed_origins) or "none"
    log_action(OperatorAction.ORIGINS_CHANGED, changed.id, allowed)
    console.print(f"{changed.email} allows browser origins: {allowed}")


def _remaining(settings: Settings, account: Account) -> tuple[float, float]:
    """This month's credits left, and the pay-as-you-go balance."""
    limits = accounts.effective_limits(account)
    balance = run_in_database(settings, lambda s: credits.balance(s, account.id, limits))
    return balance.remaining, balance.payg


@accounts_app.command("show")
def show(account: str = typer.Argument(..., help=ACCOUNT_HELP)) -> None:
    """Plan, limits and this month's credits."""
    settings = Settings()
    found = run_in_database(settings, lambda s: _find(s, account))
    _show(found, *_remaining(settings, found))


@accounts_app.command("members")
def list_members(account: str = typer.Argument(..., help=ACCOUNT_HELP)) -> None:
    """The people of an account and their roles."""

    def work(session: Session) -> tuple[int, list[members.Member]]:
        account_id = members.account_named(session, account)
        return account_id, members.list_members(session, account_id)

    account_id, team = run_in_database(Settings(), work)
    console.print(f"account {account_id}:")
    for member in team:
        joined = member.joined_at.date().isoformat()
        console.print(f"  {member.email}  {member.role.value}  (since {joined})")


@accounts_app.command("add-member")
def add_member(
    account: str = typer.Argument(..., help=ACCOUNT_HELP),
    email: str = typer.Argument(..., help="A person with a login (they sign up first)."),
    role: str = typer.Option(..., "--role", help="owner, admin, developer or viewer."),
) -> None:
    """Add an existing person to an account with a role."""
    checked = parse_role_or_fail(role)

    def work(session: Session) -> tuple[int, members.Member]:
        account_id = members.account_named(session, account)
        person = users.get_by_email(session, email)
        if person is None:
            raise NotFound(f"no person with the email {email}; they sign up first")
        change = MemberChange(account_id, EVERYTHING, OPERATOR)
        return account_id, members.add_member(session, change, person.id, checked)

    account_id, member = run_in_database(Settings(), work)
    log_action(OperatorAction.MEMBER_ADDED, account_id, f"{member.email} as {member.role.value}")
    console.print(f"{member.email} is now {member.role.value} of account {account_id}")


def parse_role_or_fail(role: str) -> Role:
    try:
        return parse_role(role)
    except BgoneError as error:
        fail(error)


@accounts_app.command("reset-password")
def reset_password(
    email: str = typer.Argument(..., help="The person's login email."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Set this password (read from stdin) instead."
    ),
) -> None:
    """Recovery for a person who lost their password (EMAIL is their login): print a
    single-use reset link (built from BGONE_PUBLIC_URL, valid one hour), or set a password;
    recorded in the audit log of each of their accounts."""
    settings = Settings()
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        errors.print(f"[red]error:[/red] the password must have {MIN_PASSWORD_LENGTH}+ characters")
        raise typer.Exit(1)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    # The CLI mails nothing: it prints the link for the operator to hand over.
    security = AccountSecurity(
        sessions, sessions, limiter_from_url(""), None, settings.public_base_url
    )
    try:
        if password is not None:
            ended = security.operator_set_password(email, password)
            log_action(OperatorAction.PASSWORD_RESET, None, f"{email.strip().lower()}: set")
            console.print(f"password set for {email.strip().lower()}; {ended} session(s) ended")
        else:
            link = security.operator_reset_link(email)
            log_action(OperatorAction.PASSWORD_RESET, None, f"{email.strip().lower()}: link")
            if not settings.public_url:
                errors.print(
                    "[yellow]warning:[/yellow] BGONE_PUBLIC_URL is not set; the link assumes "
                    "the server is reached at " + settings.public_base_url
                )
            console.print(link)
    except BgoneError as error:
        fail(error)
    finally:
        engine.dispose()


@accounts_app.command("reset-2fa")
def reset_two_factor(
    email: str = typer.Argument(..., help="The person's login email."),
) -> None:
    """Recovery for a person (EMAIL is their login) who lost their authenticator and recovery
    codes: remove their second factor (they sign in with the password, and enrol again where
    an account requires it); recorded in the audit log of each of their accounts."""
    settings = Settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        removed = TwoFactorService(sessions, sessions, limiter_from_url("")).operator_reset(email)
        who = email.strip().lower()
        log_action(OperatorAction.TWO_FACTOR_RESET, None, who)
        console.print(
            f"two-factor removed for {who}"
            if removed
            else f"{who} had no two-factor; nothing to remove (recorded anyway)"
        )
    except BgoneError as error:
        fail(error)
    finally:
        engine.dispose()
