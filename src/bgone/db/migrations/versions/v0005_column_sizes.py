"""Columns sized for what is stored in them: a key's creator and an audit event's actor.

Both hold "dashboard:" followed by the owner's email, so an email of 311 to 320 characters
(valid) overflowed their VARCHAR(320) on PostgreSQL and the dashboard could not create keys.
They take ACTOR_LENGTH (352) characters now. SQLite enforces no lengths; batch mode rebuilds
its tables anyway so that the schema says what the models say.

On SQLite that rebuild drops api_keys, whose rows refer to each other (replaced_by). With
foreign keys on, and they cannot be switched off inside the migration's transaction, the
drop would fail on every rotated key; so those references are set aside and put back.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

EMAIL_LENGTH = 320  # the sizes as of this revision, not imported: a revision never changes
ACTOR_LENGTH = 352
ACTOR_COLUMNS = (("api_keys", "created_by"), ("audit_events", "actor"))


def upgrade() -> None:
    _resize(EMAIL_LENGTH, ACTOR_LENGTH)


def downgrade() -> None:
    # Fails on PostgreSQL while a longer value is stored: narrowing would lose it.
    _resize(ACTOR_LENGTH, EMAIL_LENGTH)


def _resize(old_length: int, new_length: int) -> None:
    bind = op.get_bind()
    rebuilt = bind.dialect.name == "sqlite"
    keys = sa.table("api_keys", sa.column("id", sa.String), sa.column("replaced_by", sa.String))
    replacements: list[dict[str, str]] = []
    if rebuilt:
        found = bind.execute(
            sa.select(keys.c.id, keys.c.replaced_by).where(keys.c.replaced_by.is_not(None))
        )
        replacements = [{"key_id": key_id, "successor": successor} for key_id, successor in found]
        bind.execute(sa.update(keys).values(replaced_by=None))
    for table, column in ACTOR_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=sa.String(old_length),
                type_=sa.String(new_length),
                existing_nullable=False,
            )
    if replacements:
        bind.execute(
            sa.update(keys)
            .where(keys.c.id == sa.bindparam("key_id"))
            .values(replaced_by=sa.bindparam("successor")),
            replacements,
        )
