"""The usage rollup: final usage rows summed per account, key, UTC day, endpoint and status,
backfilled from the usage rows already there.

Revision ID: 0011
Revises: 0009 (to be re-pointed at 0010 when the branches before it land)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

# Pending rows (status 0) are requests still running; rows without an account are nobody's.
BACKFILL_COLUMNS = "account_id, day, key_id, endpoint, status, requests, credits_milli, megapixels"
BACKFILL_FROM = """
    FROM usage_records
    WHERE account_id IS NOT NULL AND status <> 0
    GROUP BY account_id, {day}, COALESCE(key_id, ''), endpoint, status
"""


def upgrade() -> None:
    op.create_table(
        "usage_rollup",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key_id", sa.String(20), nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("status", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("credits_milli", sa.BigInteger(), nullable=False),
        sa.Column("megapixels", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_usage_rollup_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "day", "key_id", "endpoint", "status", name="pk_usage_rollup"
        ),
    )
    if op.get_bind().dialect.name == "sqlite":
        day = "date(at)"  # UTC text already (bgone.db.types.UtcDateTime)
    else:
        day = "CAST(timezone('UTC', at) AS DATE)"
    op.execute(
        f"INSERT INTO usage_rollup ({BACKFILL_COLUMNS}) "
        f"SELECT account_id, {day}, COALESCE(key_id, ''), endpoint, status, COUNT(*), "
        "COALESCE(SUM(credits_milli), 0), COALESCE(SUM(megapixels), 0)"
        + BACKFILL_FROM.format(day=day)
    )


def downgrade() -> None:
    op.drop_table("usage_rollup")
