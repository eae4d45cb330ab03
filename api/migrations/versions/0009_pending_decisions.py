"""pending decisions: the office's decisions on a plan (pins) before it plans with them

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 14:10:00.000000

One row per decision (action assign, forbid, close or exclude; applicant; post) of a plan,
deleted with its plan (``ON DELETE CASCADE``). (Issue 25, the office pages.)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("applicant_id", sa.String(length=64), nullable=False),
        sa.Column("post_id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["api_keys.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "action", "applicant_id", "post_id"),
    )
    with op.batch_alter_table("pending_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_decisions_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pending_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_decisions_plan_id"))
    op.drop_table("pending_decisions")
