"""`bgone operators`: who may open the /admin console; and the console's use cases for the
other operator commands, so that every CLI action lands in the global audit log too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from bgone.cli.common import console
from bgone.cli.keys import operator_key_service
from bgone.domain.operator_log import OperatorAction
from bgone.services.operator_console import OperatorActor, OperatorConsole
from bgone.settings import Settings

operators_app = typer.Typer(
    help="Grant or take away the operator flag (the /admin console).", no_args_is_help=True
)
CLI = OperatorActor()


@contextmanager
def operator_console(settings: Settings) -> Iterator[OperatorConsole]:
    """The console's service on a migrated database; an error ends the command."""
    with operator_key_service(settings) as keys:
        yield OperatorConsole(keys.sessions, keys.read_sessions, keys)


def log_action(action: OperatorAction, account_id: int | None, detail: str) -> None:
    """Record a CLI action done outside the console's service in the global audit log."""
    with operator_console(Settings()) as service:
        service.record(CLI, action, account_id, detail)


@operators_app.command("add")
def add(
    email: str = typer.Argument(..., help="A person with a login (they sign up first)."),
) -> None:
    """Make a person an operator; they must set up two-factor before /admin opens."""
    with operator_console(Settings()) as service:
        added = service.add_operator(CLI, email)
    who = email.strip().lower()
    console.print(f"{who} is now an operator" if added else f"{who} was already an operator")


@operators_app.command("remove")
def remove(email: str = typer.Argument(...)) -> None:
    """Take the operator flag away."""
    with operator_console(Settings()) as service:
        removed = service.remove_operator(CLI, email)
    who = email.strip().lower()
    console.print(f"{who} is no longer an operator" if removed else f"{who} was not an operator")


@operators_app.command("list")
def list_command() -> None:
    """Every operator, with when and by whom they were added."""
    with operator_console(Settings()) as service:
        found = service.operators()
    if not found:
        console.print("no operators")
    for operator in found:
        console.print(
            f"{operator.email}  since {operator.since:%Y-%m-%d}  added by {operator.added_by}"
        )
