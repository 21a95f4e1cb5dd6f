"""A bad BGONE_* setting as one line naming its variable."""

from __future__ import annotations

from pydantic import ValidationError

from bgone.errors import quoted
from bgone.settings import Settings


def is_settings_error(error: ValidationError) -> bool:
    return error.title == Settings.__name__


def describe_settings_error(error: ValidationError) -> str:
    """`error: BGONE_PORT: Input should be a valid integer (got 'eighty')`; one per problem."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    problems = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "?"
        message = str(problem["msg"]).removeprefix("Value error, ")
        value = problem.get("input")
        # Structural problems (a JSON list) name no single value worth quoting back.
        shown = quoted(value) if isinstance(value, str) else ""
        got = f" (got {shown})" if shown and shown not in message else ""
        problems.append(f"{prefix}{field.upper()}: {message}{got}")
    return "error: " + "; ".join(problems)
