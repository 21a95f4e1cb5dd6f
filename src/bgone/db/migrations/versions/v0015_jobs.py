"""Batch jobs and their items (bgone.domain.jobs).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(28), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key_id", sa.String(20), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("webhook_url", sa.String(2048)),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP),
        sa.Column("finished_at", TIMESTAMP),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_jobs_account_id_created_at", "jobs", ["account_id", "created_at"])
    op.create_table(
        "job_items",
        sa.Column(
            "job_id", sa.String(28), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("index", sa.Integer, primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_is_url", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_detail", sa.Text),
        sa.Column("result_path", sa.Text),
        sa.Column("result_format", sa.String(8)),
        sa.Column("credits_reserved_milli", sa.BigInteger, nullable=False),
        sa.Column("credits_charged_milli", sa.BigInteger, nullable=False),
        sa.Column("charged", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_expires_at", TIMESTAMP),
        sa.Column("queued_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP),
    )
    op.create_index("ix_job_items_job_id_state", "job_items", ["job_id", "state"])
    op.create_index(
        "ix_job_items_state_lease_expires_at", "job_items", ["state", "lease_expires_at"]
    )


def downgrade() -> None:
    op.drop_table("job_items")
    op.drop_table("jobs")
