"""sweep jobs: a job's kind and options, the sweep it made, and the table of finished sweeps

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 09:30:00.000000

Every job stored before is a plan job (``kind`` = ``plan``). A downgrade deletes the sweeps
and the sweep jobs (their folders stay in ``sweeps/``): the older schema cannot tell a sweep
job from a plan job and would run it as a plan.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="plan", nullable=False)
        )
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("sweep_id", sa.String(length=32), nullable=True))
    op.create_table(
        "sweeps",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("scenario_id", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("variants", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"]),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_id"),
    )
    with op.batch_alter_table("sweeps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sweeps_scenario_id"), ["scenario_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sweeps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sweeps_scenario_id"))
    op.drop_table("sweeps")
    jobs = sa.table("jobs", sa.column("kind", sa.String))
    op.execute(jobs.delete().where(jobs.c.kind != "plan"))
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("sweep_id")
        batch_op.drop_column("options")
        batch_op.drop_column("kind")
