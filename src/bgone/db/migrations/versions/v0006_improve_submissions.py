"""Images submitted to remove.bg's /v1.0/improve, kept for the operator.

Revision ID: 0006
Revises: 0004 (re-pointed at 0005 when the key rules' migration lands before it)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "improve_submissions",
        sa.Column("id", sa.String(20), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(20), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("tag", sa.String(255), nullable=True),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("stored_name", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_improve_submissions_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_improve_submissions"),
    )
    # The daily limit counts an account's submissions since midnight (UTC).
    op.create_index(
        "ix_improve_submissions_account_id_at", "improve_submissions", ["account_id", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_improve_submissions_account_id_at", table_name="improve_submissions")
    op.drop_table("improve_submissions")
