"""office pages and languages: web sessions, a job's language, validation messages as templates

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 10:12:31.501720

The scenarios' validation reports were stored with their messages rendered in English; they
are now stored as templates and fields (``planner.issues.Report.to_data``), rendered in each
reader's language. An existing report keeps its English message as a template without
fields (shown as it was, in every language); a downgrade renders the templates in English.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PLACE = ("file", "line", "column", "severity", "rule")
_scenarios = sa.table("scenarios", sa.column("id", sa.String), sa.column("validation", sa.JSON))


def _templates(report: dict[str, Any]) -> dict[str, Any]:
    """A report as rendered before 0005 -> as templates (its message, without fields)."""
    issues = []
    for issue in report.get("issues", []):
        if "text" in issue:  # already converted
            issues.append(issue)
            continue
        stored = {k: issue.get(k) for k in _PLACE}
        stored["text"] = {"template": issue.get("message", ""), "fields": {}}
        if issue.get("cell"):
            stored["cell"] = issue["cell"]
        issues.append(stored)
    return {"issues": issues}


def _rendered(report: dict[str, Any]) -> dict[str, Any]:
    """A report as templates -> rendered in English, as before 0005."""
    from planner.i18n import speaking
    from planner.issues import Report

    with speaking("en"):
        return Report.from_data(report).to_dict()


def _convert(convert: Any) -> None:
    conn = op.get_bind()
    for sid, report in conn.execute(sa.select(_scenarios.c.id, _scenarios.c.validation)).all():
        conn.execute(
            _scenarios.update()
            .where(_scenarios.c.id == sid)
            .values(validation=convert(report or {}))
        )


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("digest"),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_sessions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_web_sessions_key_id"), ["key_id"], unique=False)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    _convert(_templates)


def downgrade() -> None:
    _convert(_rendered)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_key_id"))
        batch_op.drop_index(batch_op.f("ix_web_sessions_expires_at"))
    op.drop_table("web_sessions")
