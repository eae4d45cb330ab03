"""scenario storage and audit counts: the bytes each stored scenario keeps on disk (the
per-key quota); how many requests an audit row stands for (429s, one row per address and
minute)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 09:00:00.000000

``stored_bytes`` is what the scenario's folder holds; a scenario stored before is NULL, and
its folder is measured the first time its key's usage is counted
(:func:`api.services.storage.usage`). Every audit row stored before stands for one request.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scenarios", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stored_bytes", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("count", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_column("count")
    with op.batch_alter_table("scenarios", schema=None) as batch_op:
        batch_op.drop_column("stored_bytes")
