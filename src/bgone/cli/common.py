"""What the operator commands share: consoles, error reporting, a migrated database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from bgone.db.engine import make_engine, make_session_factory, transaction
from bgone.db.migrate import upgrade
from bgone.errors import BgoneError
from bgone.settings import Settings

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def fail(error: BgoneError) -> NoReturn:
    errors.print(f"[red]error ({error.code}):[/red] {error.detail}")
    raise typer.Exit(1)


@contextmanager
def database(settings: Settings) -> Iterator[Session]:
    """One transaction on a database migrated to the latest schema."""
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def run_in_database(settings: Settings, work: Callable[[Session], T]) -> T:
    try:
        with database(settings) as session:
            return work(session)
    except BgoneError as error:
        fail(error)
