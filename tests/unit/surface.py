"""The public surface as text, one item a line: what tests/golden/*.txt are compared with.

python -m tests.unit.surface    # rewrites the files after an intended change
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer

from bgone.cli import app
from bgone.settings import Settings
from tests.support.environment import REPO

GOLDEN = REPO / "tests" / "golden"
CLI_FILE = GOLDEN / "cli.txt"
VARIABLES_FILE = GOLDEN / "variables.txt"
README = REPO / "README.md"


def _walk(command: Any, path: str) -> Iterator[str]:
    # Duck-typed: Typer builds its commands on a click of its own (typer._click).
    params = command.params
    flags = sorted(
        flag
        for param in params
        if param.param_type_name == "option"
        for flag in (*param.opts, *param.secondary_opts)
    )
    arguments = [f"<{param.name}>" for param in params if param.param_type_name == "argument"]
    yield " ".join([path, *arguments, *flags])
    for name in sorted(getattr(command, "commands", {})):
        yield from _walk(command.commands[name], f"{path} {name}")


def cli_lines() -> list[str]:
    """`bgone <command> <ARGUMENT> --flag ...`, one line per command, groups included."""
    return list(_walk(typer.main.get_command(app), "bgone"))


def settings_variables() -> list[str]:
    prefix = str(Settings.model_config.get("env_prefix", "")).upper()
    return sorted(f"{prefix}{name.upper()}" for name in Settings.model_fields)


def readme_variables() -> list[str]:
    return sorted(set(re.findall(r"\bBGONE_[A-Z0-9_]*[A-Z0-9]\b", README.read_text())))


def main() -> None:
    CLI_FILE.write_text("\n".join(cli_lines()) + "\n")
    VARIABLES_FILE.write_text("\n".join(settings_variables()) + "\n")


if __name__ == "__main__":
    main()
