"""The audit trail: who uploaded, planned, cancelled or downloaded what, and failed logins.

Each event is one row of the ``audit`` table: time, key prefix and role (never the key or a
signature), client address, action, object id, a short detail, outcome and HTTP status.
Actions:

``upload``, ``plan``, ``decide`` (a decision added to or removed from a plan's pending set,
on the office pages), ``cancel``, ``delete`` (a scenario with its plans), ``download`` (a plan's tables, routes, workbook, summary,
budget or map; ``detail`` names which), ``map-link`` (a signed link made), ``key-create``,
``key-revoke`` (from the command line), ``sign-in`` and ``sign-out`` (the office pages),
``failed-auth`` (an unknown or revoked key, or a map link whose signature is wrong) and
``throttled`` (refused with 429, see :mod:`api.core.throttle`; one row per address and minute,
its ``count`` the refusals, so a flood of 429s cannot grow the table without bound).

The service records events into memory and a background thread writes them in batches every
``PLANNER_AUDIT_FLUSH_SECONDS`` (0.2 s), so a read does not wait for a database write;
reading the trail (``GET /api/v1/audit``) writes the pending events first, and so does a
clean shutdown.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast, get_args

from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.core.api_keys import Principal
from api.db.models import AuditRow, utcnow
from planner.i18n import _

log = logging.getLogger(__name__)

Action = Literal[
    "upload",
    "plan",
    "decide",
    "sweep",
    "cancel",
    "delete",
    "download",
    "map-link",
    "key-create",
    "key-revoke",
    "sign-in",
    "sign-out",
    "failed-auth",
    "throttled",
]
ACTIONS: tuple[str, ...] = get_args(Action)
_SPAN = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(slots=True)
class Event:
    """One audited action, before it is written."""

    action: str
    outcome: str
    address: str | None = None
    key_prefix: str | None = None
    role: str | None = None
    province: str | None = None
    object_id: str | None = None
    detail: str | None = None
    status: int | None = None
    at: datetime = field(default_factory=utcnow)
    count: int = 1


def role_of(who: Principal | None) -> tuple[str | None, str | None, str | None]:
    """(key prefix, role as in ``planner keys create``, province) of a caller."""
    if who is None:
        return None, None, None
    role = f"province:{who.province}" if who.role == "province" else who.role
    return who.prefix, role, who.province


def outcome_of(status: int) -> str:
    """``ok`` (below 400), ``refused`` (4xx) or ``error`` (5xx)."""
    return "ok" if status < 400 else ("refused" if status < 500 else "error")


def write(session: Session, events: Sequence[Event]) -> None:
    """Insert ``events`` in one statement and commit."""
    if events:
        session.execute(insert(AuditRow), [asdict(e) for e in events])
        session.commit()


def write_counted(session: Session, events: Sequence[Event]) -> None:
    """Add counted events (one per action, address and minute) to the row of their minute, or
    insert it; commit. Several servers on one database each add to the same row."""
    for e in events:
        found = session.execute(
            update(AuditRow)
            .where(
                AuditRow.action == e.action,
                AuditRow.at == e.at,
                AuditRow.address.is_not_distinct_from(e.address),
            )
            .values(count=AuditRow.count + e.count)
        )
        if not cast(CursorResult[Any], found).rowcount:
            session.execute(insert(AuditRow), [asdict(e)])
    session.commit()


class AuditLog:
    """Events kept in memory and written in batches by a background thread.

    Parameters
    ----------
    sessions
        The service's session factory.
    flush_seconds : float
        How often pending events are written.
    """

    def __init__(self, sessions: sessionmaker[Session], flush_seconds: float = 0.2) -> None:
        self.sessions = sessions
        self.flush_seconds = flush_seconds
        self._pending: list[Event] = []
        self._throttled: dict[tuple[datetime, str | None], Event] = {}
        """``throttled`` events of this minute per address, their count growing."""
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, event: Event) -> None:
        """Keep ``event`` for the next write (no I/O). Refusals with 429 (``throttled``) are
        counted per address and minute instead: one row each, however many there are."""
        with self._lock:
            if event.action != "throttled":
                self._pending.append(event)
                return
            minute = event.at.replace(second=0, microsecond=0)
            bucket = (minute, event.address)
            held = self._throttled.get(bucket)
            if held is None:
                event.at = minute
                self._throttled[bucket] = event
            else:
                held.count += 1
                if held.key_prefix != event.key_prefix:  # several keys: no one prefix
                    held.key_prefix = held.role = held.province = None

    def flush(self) -> None:
        """Write every pending event now (blocking)."""
        with self._write_lock:
            with self._lock:
                events, self._pending = self._pending, []
                counted, self._throttled = list(self._throttled.values()), {}
            if not events and not counted:
                return
            try:
                with self.sessions() as session:
                    write(session, events)
                    write_counted(session, counted)
            except Exception:
                log.exception("could not write %d audit event(s); keeping them", len(events))
                with self._lock:
                    self._pending[:0] = events
                    for e in counted:
                        self.record_counted(e)

    def record_counted(self, event: Event) -> None:
        """Put back an aggregated event that could not be written (its count kept)."""
        bucket = (event.at, event.address)
        held = self._throttled.get(bucket)
        if held is None:
            self._throttled[bucket] = event
        else:
            held.count += event.count

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def start(self) -> None:
        """Start the background writer."""
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the writer and write what is pending."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``30m``, ``12h``, ``1d``, ``2w`` (before ``now``) or an ISO 8601 time.

    Raises
    ------
    ValueError
        Naming what was received and what is expected.
    """
    found = _SPAN.match(text.strip())
    if found:
        return (now or utcnow()) - timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    try:
        return _iso(text)
    except ValueError:
        raise ValueError(
            _(
                "since {text!r}; expected a span like 30m, 12h, 1d, 2w or an ISO time like "
                "2026-12-01T08:00:00+08:00",
                text=text,
            )
        ) from None


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (UTC when it names no zone), e.g. the end of a query (``until``).

    Raises
    ------
    ValueError
        Naming what was received and what is expected (in the language of the moment).
    """
    try:
        return _iso(text)
    except ValueError:
        raise ValueError(
            _("until {text!r}; expected an ISO time like 2026-12-01T08:00:00+08:00", text=text)
        ) from None


def _iso(text: str) -> datetime:
    when = datetime.fromisoformat(text.strip())
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def query(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    province: str | None = None,
    limit: int = 1000,
) -> list[AuditRow]:
    """Events, newest first, filtered by time, action and the acting key's province."""
    q = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
    if since is not None:  # compared in UTC, the zone the rows are written in
        q = q.where(AuditRow.at >= since.astimezone(UTC))
    if until is not None:
        q = q.where(AuditRow.at <= until.astimezone(UTC))
    if action is not None:
        q = q.where(AuditRow.action == action)
    if province is not None:
        q = q.where(AuditRow.province == province)
    return list(session.scalars(q))
