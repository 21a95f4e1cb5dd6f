"""Initial schema: plans, accounts, API keys, audit trail, credits and usage.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written out in full rather than importing `bgone.db.tables`, so that later changes to the
models cannot change what this revision does to a database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
MILLI_PER_CREDIT = 1000


def upgrade() -> None:
    plans = op.create_table(
        "plans",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("api_access", sa.Boolean(), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("staging_rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("monthly_credits_milli", sa.BigInteger(), nullable=False),
        sa.Column("max_megapixels", sa.Float(), nullable=False),
        sa.Column("max_keys", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_plans"),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=True),
        sa.Column("monthly_credits_milli", sa.BigInteger(), nullable=True),
        sa.Column("max_megapixels", sa.Float(), nullable=True),
        sa.Column("max_keys", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("status IN ('active', 'suspended')", name="ck_accounts_status"),
        sa.CheckConstraint("email = lower(email)", name="ck_accounts_email_lowercase"),
        sa.ForeignKeyConstraint(["plan"], ["plans.name"], name="fk_accounts_plan_plans"),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("email", name="uq_accounts_email"),
    )
    op.create_index("ix_accounts_plan", "accounts", ["plan"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(20), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("display", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("hash_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.Column("last_used_ip", sa.String(45), nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.Column("replaced_by", sa.String(20), nullable=True),
        sa.CheckConstraint(
            "environment IN ('production', 'staging')", name="ck_api_keys_environment"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_api_keys_account_id_accounts"
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by"], ["api_keys.id"], name="fk_api_keys_replaced_by_api_keys"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("hash", name="uq_api_keys_hash"),
    )
    op.create_index("ix_api_keys_account_id_created_at", "api_keys", ["account_id", "created_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(20), nullable=True),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_audit_events_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_account_id_at", "audit_events", ["account_id", "at"])
    op.create_index("ix_audit_events_key_id_at", "audit_events", ["key_id", "at"])
    op.create_table(
        "credit_periods",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("included_milli", sa.BigInteger(), nullable=False),
        sa.Column("used_milli", sa.BigInteger(), nullable=False),
        sa.Column("reserved_milli", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("used_milli >= 0", name="ck_credit_periods_used_not_negative"),
        sa.CheckConstraint("reserved_milli >= 0", name="ck_credit_periods_reserved_not_negative"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_credit_periods_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("account_id", "period", name="pk_credit_periods"),
    )
    op.create_table(
        "usage_records",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.String(20), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("credits_milli", sa.BigInteger(), nullable=False),
        sa.Column("megapixels", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_usage_records_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_usage_records"),
        sa.UniqueConstraint("request_id", name="uq_usage_records_request_id"),
    )
    op.create_index("ix_usage_records_account_id_at", "usage_records", ["account_id", "at"])

    op.bulk_insert(
        plans,
        [
            {
                # The free tier: dashboard previews only, no API.
                "name": "starter",
                "display_name": "Starter",
                "api_access": False,
                "rate_per_minute": 0,
                "staging_rate_per_minute": 0,
                "monthly_credits_milli": 0,
                "max_megapixels": 0.25,
                "max_keys": 0,
            },
            {
                "name": "business",
                "display_name": "Business",
                "api_access": True,
                "rate_per_minute": 500,
                "staging_rate_per_minute": 20,
                "monthly_credits_milli": 1_000 * MILLI_PER_CREDIT,
                "max_megapixels": 25.0,
                "max_keys": 10,
            },
            {
                "name": "enterprise",
                "display_name": "Enterprise",
                "api_access": True,
                "rate_per_minute": 2_000,
                "staging_rate_per_minute": 60,
                "monthly_credits_milli": 10_000 * MILLI_PER_CREDIT,
                "max_megapixels": 50.0,
                "max_keys": 50,
            },
        ],
    )


def downgrade() -> None:
    for table in ("usage_records", "credit_periods", "audit_events", "api_keys", "accounts"):
        op.drop_table(table)
    op.drop_table("plans")
