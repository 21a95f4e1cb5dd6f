"""The `bgone` command."""

from __future__ import annotations

import typer

from bgone.cli.accounts import accounts_app
from bgone.cli.improve import improve_app
from bgone.cli.keys import keys_app
from bgone.cli.models import models_app
from bgone.cli.remove import remove_command
from bgone.cli.server import db_app, serve

app = typer.Typer(
    name="bgone",
    help="bgone: self-hostable background removal.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(models_app, name="models")
app.command("remove")(remove_command)
app.command("serve")(serve)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(improve_app, name="improve")


def main() -> None:
    app()
