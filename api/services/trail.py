"""The audit trail as a national key reads it: events filtered by time, action and province,
newest first (the trail itself is :mod:`api.core.audit`'s)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.core import audit
from api.core.errors import Invalid
from api.db.models import AuditRow
from planner.i18n import Text


def events(
    session: Session,
    since: str | None,
    until: str | None,
    action: str | None,
    province: str | None,
    limit: int,
) -> list[AuditRow]:
    """The events from ``since`` (a span such as ``30m``, ``12h``, ``1d``, ``2w``, or an ISO
    time) until ``until`` (an ISO time), newest first.

    Raises
    ------
    Invalid
        ``since`` or ``until`` is neither (the message says why).
    """
    try:
        start = audit.parse_since(since) if since else None
        end = audit.parse_time(until) if until else None
    except ValueError as exc:
        raise Invalid(Text(str(exc))) from None
    return audit.query(session, start, end, action, province, limit)
