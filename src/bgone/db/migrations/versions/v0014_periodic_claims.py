"""Periodic task slots, claimed once by whichever task-queue consumer gets there first.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "periodic_claims",
        sa.Column("task_name", sa.String(100), primary_key=True),
        sa.Column("slot", sa.String(40), primary_key=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("periodic_claims")
