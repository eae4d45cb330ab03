"""Times as an office reads them: in its time zone (``PLANNER_TIME_ZONE``, default
Asia/Shanghai), with the zone shown. The database keeps UTC."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from planner.i18n import N_, _

DEFAULT_ZONE = "Asia/Shanghai"
ZONE_NAMES = {"Asia/Shanghai": N_("Beijing time"), "UTC": N_("UTC")}
"""Zones an office knows by a name of their own; others show their identifier."""


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_name(zone: str = DEFAULT_ZONE) -> str:
    """What the zone is called in the language of the moment (北京时间)."""
    template = ZONE_NAMES.get(zone)
    return _(template) if template else zone


def local_time(value: datetime | None, zone: str = DEFAULT_ZONE, seconds: bool = False) -> str:
    """``value`` (UTC when it has no zone, as SQLite gives it back) in ``zone``, as
    ``2026-12-06 17:22 北京时间``; ``""`` for no time."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    shown = value.astimezone(_zone(zone))
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return f"{shown.strftime(pattern)} {zone_name(zone)}"


def local_date(value: datetime | None, zone: str = DEFAULT_ZONE) -> str:
    """The date of ``value`` in ``zone`` (``2026-12-06``), for file names."""
    if value is None:
        value = datetime.now(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone(zone)).strftime("%Y-%m-%d")
