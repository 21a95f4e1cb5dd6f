"""The operator's console: who is an operator, the global log of what operators did, and the
customers' plan requests.

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTOR = sa.String(352)


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("since", TIMESTAMP, nullable=False),
        sa.Column("added_by", ACTOR, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_operators_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_operators"),
    )
    op.create_table(
        "operator_actions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", ACTOR, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operator_actions"),
    )
    op.create_index("ix_operator_actions_at", "operator_actions", ["at"])
    op.create_index("ix_operator_actions_account_id_at", "operator_actions", ["account_id", "at"])
    op.create_table(
        "plan_requests",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("requested_by", ACTOR, nullable=False),
        sa.Column("requested_at", TIMESTAMP, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("decided_by", ACTOR, nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'declined')", name="ck_plan_requests_state"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_plan_requests_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["plan"], ["plans.name"], name="fk_plan_requests_plan_plans"),
        sa.PrimaryKeyConstraint("id", name="pk_plan_requests"),
    )
    op.create_index(
        "ix_plan_requests_account_id_requested_at",
        "plan_requests",
        ["account_id", "requested_at"],
    )
    op.create_index(
        "ix_plan_requests_state_requested_at", "plan_requests", ["state", "requested_at"]
    )
    # One request waits per account, however many members ask at once.
    op.create_index(
        "ix_plan_requests_one_pending",
        "plan_requests",
        ["account_id"],
        unique=True,
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("plan_requests")
    op.drop_table("operator_actions")
    op.drop_table("operators")
