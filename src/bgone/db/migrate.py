"""Run the packaged Alembic migrations from code: no alembic.ini, no working directory.

To write a new revision (developers only), from a Python shell:

    from alembic import command
    from bgone.db.migrate import alembic_config
    command.revision(alembic_config("sqlite:///dev.db"), message="add x",
                     autogenerate=True, rev_id="0002")

then rename the file to `v0002_add_x.py` and review it: autogenerate is a first draft.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bgone.db.engine import make_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not as sqlalchemy.url: the ini parser would treat a "%" in a
    # password as interpolation syntax.
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision`, creating every table on an empty database."""
    config = alembic_config(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        engine.dispose()


def current_revision(database_url: str) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision shipped with this version of bgone."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()
