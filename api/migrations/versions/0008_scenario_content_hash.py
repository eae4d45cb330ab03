"""scenario content hash: the SHA-256 of the uploaded bytes, to recognise the same upload

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 12:00:00.000000

A scenario stored before has no hash (NULL) and is never offered as the same upload.
(Issue 24.)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scenarios", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_sha256", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_scenarios_content_sha256"), ["content_sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("scenarios", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scenarios_content_sha256"))
        batch_op.drop_column("content_sha256")
