"""An index on pending usage rows: replicas look for stale ones every minute.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

PENDING = sa.text("status = 0")


def upgrade() -> None:
    # Partial: pending rows are a handful among millions, so the index stays tiny.
    op.create_index(
        "ix_usage_records_pending_at",
        "usage_records",
        ["at"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_usage_records_pending_at", table_name="usage_records")
