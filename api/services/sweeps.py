"""Sweeps as the caller may see them (a sweep outside the caller's province is answered as
an unknown one)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.core.api_keys import Principal
from api.core.errors import NotFound
from api.core.settings import Settings
from api.db.models import ScenarioRow, SweepRow
from api.services.scope import sees
from api.services.storage import sweep_dir
from planner.i18n import N_


def list_sweeps(session: Session, who: Principal) -> list[tuple[SweepRow, ScenarioRow]]:
    """The caller's visible sweeps with their scenarios, newest first."""
    q = (
        select(SweepRow, ScenarioRow)
        .join(ScenarioRow, SweepRow.scenario_id == ScenarioRow.id)
        .order_by(SweepRow.created_at.desc())
    )
    return [(w, s) for w, s in session.execute(q) if sees(who, s)]


def get_sweep(session: Session, who: Principal, sweep_id: str) -> tuple[SweepRow, ScenarioRow]:
    """One sweep and its scenario; not found when unknown or outside the caller's province."""
    found = session.execute(
        select(SweepRow, ScenarioRow)
        .join(ScenarioRow, SweepRow.scenario_id == ScenarioRow.id)
        .where(SweepRow.id == sweep_id)
    ).first()
    if found is None or not sees(who, found[1]):
        raise NotFound(N_("no sweep {id!r}"), id=sweep_id)
    return found[0], found[1]


def sweep_folder(settings: Settings, sweep: SweepRow) -> Path:
    """The folder of a sweep's files."""
    return sweep_dir(settings, sweep.id)
