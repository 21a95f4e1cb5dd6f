"""A new key's secret waiting to be shown once after the dashboard's generate or rotate form
(the form answers with a redirect; the next page shows it and deletes the row).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "shown_once_secrets",
        sa.Column(
            "token_hash",
            sa.String(64),
            sa.ForeignKey("web_sessions.token_hash", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(20), nullable=False),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("rotated_from", sa.String(20), nullable=True),
        sa.Column("rotated_grace", sa.Text(), nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shown_once_secrets")
