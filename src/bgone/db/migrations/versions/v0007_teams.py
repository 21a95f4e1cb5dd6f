"""Teams: people (users) with their own login, their roles in accounts (memberships), and
invitations to join an account (a single-use link, kept as its SHA-256).

Every existing account becomes a team of one owner: a user with the account's email and
password hash (and the account's id, so that the existing keys and audit rows name them),
and an owner membership. The account's own password_hash is emptied: passwords belong to
users from now on.

API keys get a scope. Keys made before this revision could already manage keys, so they
are "manage" keys (no change visible to their clients); the default for new keys is
"remove". They are credited to the account's owner, so the owner may rotate them.

Dashboard sessions now belong to a person and carry the account they are in; the table is
made anew, so everyone signs in to the dashboard once more (API clients see no change).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = sa.DateTime(timezone=True)
EMAIL_LENGTH = 320
ACTOR_LENGTH = 352


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(EMAIL_LENGTH), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("email = lower(email)", name="ck_users_email_lowercase"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "memberships",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'developer', 'viewer')", name="ck_memberships_role"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_memberships_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_memberships_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "user_id", name="pk_memberships"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(20), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(EMAIL_LENGTH), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(ACTOR_LENGTH), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("accepted_at", TIMESTAMP, nullable=True),
        sa.Column("withdrawn_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'developer', 'viewer')", name="ck_invitations_role"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_invitations_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    )
    op.create_index("ix_invitations_account_id", "invitations", ["account_id"])

    bind = op.get_bind()
    bind.execute(
        sa.text(
            "INSERT INTO users (id, email, password_hash, created_at) "
            "SELECT id, email, password_hash, created_at FROM accounts"
        )
    )
    bind.execute(
        sa.text(
            "INSERT INTO memberships (account_id, user_id, role, created_at) "
            "SELECT id, id, 'owner', created_at FROM accounts"
        )
    )
    bind.execute(sa.text("UPDATE accounts SET password_hash = NULL"))
    if bind.dialect.name == "postgresql":
        # The ids were given explicitly: the sequence must start past them.
        bind.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('users', 'id'), "
                "COALESCE((SELECT MAX(id) FROM users), 0) + 1, false)"
            )
        )

    op.add_column("api_keys", sa.Column("created_by_user_id", sa.Integer(), nullable=True))
    op.add_column(
        "api_keys",
        sa.Column("scope", sa.String(16), nullable=False, server_default="remove"),
    )
    bind.execute(sa.text("UPDATE api_keys SET scope = 'manage', created_by_user_id = account_id"))

    op.drop_index("ix_web_sessions_account_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    _create_sessions(with_user=True)


def downgrade() -> None:
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_index("ix_web_sessions_account_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    _create_sessions(with_user=False)
    bind = op.get_bind()
    # Each account gets back the password of its founding owner (same email).
    bind.execute(
        sa.text(
            "UPDATE accounts SET password_hash = "
            "(SELECT users.password_hash FROM users WHERE users.email = accounts.email)"
        )
    )
    # On SQLite batch mode rebuilds api_keys, whose rows refer to each other (replaced_by):
    # those references are set aside and put back, as in 0005.
    keys = sa.table("api_keys", sa.column("id", sa.String), sa.column("replaced_by", sa.String))
    replacements: list[dict[str, str]] = []
    if bind.dialect.name == "sqlite":
        found = bind.execute(
            sa.select(keys.c.id, keys.c.replaced_by).where(keys.c.replaced_by.is_not(None))
        )
        replacements = [{"key_id": key_id, "successor": successor} for key_id, successor in found]
        bind.execute(sa.update(keys).values(replaced_by=None))
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("scope")
        batch.drop_column("created_by_user_id")
    if replacements:
        bind.execute(
            sa.update(keys)
            .where(keys.c.id == sa.bindparam("key_id"))
            .values(replaced_by=sa.bindparam("successor")),
            replacements,
        )
    op.drop_index("ix_invitations_account_id", table_name="invitations")
    op.drop_table("invitations")
    op.drop_index("ix_memberships_user_id", table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("users")


def _create_sessions(with_user: bool) -> None:
    user_columns: list[sa.Column[int] | sa.ForeignKeyConstraint] = []
    if with_user:
        user_columns = [
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["user_id"], ["users.id"], name="fk_web_sessions_user_id_users", ondelete="CASCADE"
            ),
        ]
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        *user_columns,
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_web_sessions_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_account_id", "web_sessions", ["account_id"])
    if with_user:
        op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
