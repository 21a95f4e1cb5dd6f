"""The `bgone` command."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from bgone.cli.accounts import accounts_app
from bgone.cli.fleet import fleet_command
from bgone.cli.improve import improve_app
from bgone.cli.jobs import jobs_app
from bgone.cli.keys import keys_app
from bgone.cli.models import models_app
from bgone.cli.operators import operators_app
from bgone.cli.plans import plans_app
from bgone.cli.remove import remove_command
from bgone.cli.server import db_app, serve
from bgone.cli.settings_errors import describe_settings_error, is_settings_error
from bgone.cli.worker import worker

app = typer.Typer(
    name="bgone",
    help="bgone: self-hostable background removal.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(models_app, name="models")
app.command("remove")(remove_command)
app.command("serve")(serve)
app.command("worker")(worker)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(improve_app, name="improve")
app.add_typer(plans_app, name="plans")
app.add_typer(operators_app, name="operators")
app.add_typer(jobs_app, name="jobs")
app.command("fleet")(fleet_command)


def main() -> None:
    try:
        app()
    except ValidationError as error:
        if not is_settings_error(error):
            raise
        # Every command reads the settings; a bad one is the operator's to fix, so it is
        # one line naming the variable (exit code 2, as for a bad flag), never a traceback.
        print(describe_settings_error(error), file=sys.stderr)
        sys.exit(2)
