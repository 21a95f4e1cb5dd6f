"""The `bgone` command."""

from __future__ import annotations

import typer

from bgone.cli.models import models_app
from bgone.cli.remove import remove_command

app = typer.Typer(
    name="bgone",
    help="bgone: self-hostable background removal.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(models_app, name="models")
app.command("remove")(remove_command)


def main() -> None:
    app()
