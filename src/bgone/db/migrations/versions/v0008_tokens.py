"""Signing in safely: single-use tokens, unverified emails, and the sessions list's columns.

one_time_tokens holds the SHA-256 of each emailed link's token (password reset, email
verification) and the person (users.id, 0007) it is for; unverified_emails the people who
signed up while the server sends mail and
have not followed their link yet; web_sessions gains the browser's User-Agent and when the
session was last seen.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = sa.DateTime(timezone=True)
EMAIL_LENGTH = 320  # the sizes as of this revision, not imported: a revision never changes
USER_AGENT_LENGTH = 255


def upgrade() -> None:
    op.create_table(
        "one_time_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(EMAIL_LENGTH), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "purpose IN ('password_reset', 'email_verification')",
            name="ck_one_time_tokens_purpose",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_one_time_tokens_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_one_time_tokens"),
    )
    op.create_index("ix_one_time_tokens_user_id", "one_time_tokens", ["user_id"])
    op.create_table(
        "unverified_emails",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(EMAIL_LENGTH), nullable=False),
        sa.Column("since", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_unverified_emails_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_unverified_emails"),
    )
    # Nullable columns on the table 0007 made anew: ADD COLUMN on both databases, no rebuild.
    op.add_column("web_sessions", sa.Column("user_agent", sa.String(USER_AGENT_LENGTH)))
    op.add_column("web_sessions", sa.Column("last_seen_at", TIMESTAMP))


def downgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("last_seen_at")
        batch.drop_column("user_agent")
    op.drop_table("unverified_emails")
    op.drop_index("ix_one_time_tokens_user_id", table_name="one_time_tokens")
    op.drop_table("one_time_tokens")
