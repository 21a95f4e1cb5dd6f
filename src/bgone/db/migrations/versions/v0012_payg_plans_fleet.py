"""Pay-as-you-go credits (a balance per account, the grants behind it, each reservation's
pay-as-you-go part), the reason an account is suspended, and the replicas' heartbeats.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place, not batch mode (see 0009): rebuilding accounts fails with foreign keys on.
        op.execute("ALTER TABLE accounts ADD COLUMN payg_milli BIGINT DEFAULT 0 NOT NULL")
        op.execute("ALTER TABLE accounts ADD COLUMN status_reason TEXT DEFAULT NULL")
        op.execute("ALTER TABLE usage_records ADD COLUMN payg_milli BIGINT DEFAULT 0 NOT NULL")
    else:
        op.add_column(
            "accounts",
            sa.Column("payg_milli", sa.BigInteger(), nullable=False, server_default="0"),
        )
        op.add_column(
            "accounts",
            sa.Column("status_reason", sa.Text(), nullable=True, server_default=sa.text("NULL")),
        )
        op.add_column(
            "usage_records",
            sa.Column("payg_milli", sa.BigInteger(), nullable=False, server_default="0"),
        )
    op.create_table(
        "credit_grants",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("milli", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(352), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('grant', 'trial')", name="ck_credit_grants_kind"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_credit_grants_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_credit_grants"),
    )
    op.create_index("ix_credit_grants_account_id_at", "credit_grants", ["account_id", "at"])
    # The trial is granted once per account, whoever races to grant it.
    op.create_index(
        "ix_credit_grants_trial_once",
        "credit_grants",
        ["account_id"],
        unique=True,
        sqlite_where=sa.text("kind = 'trial'"),
        postgresql_where=sa.text("kind = 'trial'"),
    )
    op.create_table(
        "replica_heartbeats",
        sa.Column("replica_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen", TIMESTAMP, nullable=False),
        sa.Column("queue_depth", sa.Integer(), nullable=False),
        sa.Column("pool_use", sa.Text(), nullable=False),
        sa.Column("models", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("replica_id", name="pk_replica_heartbeats"),
    )


def downgrade() -> None:
    op.drop_table("replica_heartbeats")
    op.drop_index("ix_credit_grants_trial_once", table_name="credit_grants")
    op.drop_index("ix_credit_grants_account_id_at", table_name="credit_grants")
    op.drop_table("credit_grants")
    op.execute("ALTER TABLE usage_records DROP COLUMN payg_milli")
    op.execute("ALTER TABLE accounts DROP COLUMN status_reason")
    op.execute("ALTER TABLE accounts DROP COLUMN payg_milli")
