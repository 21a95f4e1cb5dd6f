"""Leaked-key reports, and each account's choice of what a reported key gets.

Revision ID: 0009
Revises: 0006 (to be re-pointed at 0008 when the teams and mail migrations land first)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTION_CHECK = "ck_accounts_leaked_key_action"
ACTION_RULE = "leaked_key_action IN ('revoke', 'warn')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not batch mode: rebuilding accounts would drop a table every other table refers to,
        # which fails with foreign keys on. SQLite adds a column with its CHECK in place.
        op.execute(
            "ALTER TABLE accounts ADD COLUMN leaked_key_action VARCHAR(16) DEFAULT 'revoke' "
            f"NOT NULL CONSTRAINT {ACTION_CHECK} CHECK ({ACTION_RULE})"
        )
    else:
        op.add_column(
            "accounts",
            sa.Column("leaked_key_action", sa.String(16), nullable=False, server_default="revoke"),
        )
        op.create_check_constraint(op.f(ACTION_CHECK), "accounts", ACTION_RULE)
    op.create_table(
        "leak_reports",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(20), nullable=False),
        sa.Column("reported_at", TIMESTAMP, nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("reporter_ip", sa.String(45), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("dismissed_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "outcome IN ('revoked', 'flagged', 'already_revoked')", name="ck_leak_reports_outcome"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_leak_reports_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_leak_reports"),
    )
    op.create_index(
        "ix_leak_reports_account_id_reported_at", "leak_reports", ["account_id", "reported_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_leak_reports_account_id_reported_at", table_name="leak_reports")
    op.drop_table("leak_reports")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE accounts DROP COLUMN leaked_key_action")
    else:
        op.drop_constraint(op.f(ACTION_CHECK), "accounts", type_="check")
        op.drop_column("accounts", "leaked_key_action")
