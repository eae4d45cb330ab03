"""Plans as the caller may see them: their list, one plan with its scenario, a plan's scope
(cached: finished plans never change), its folder and the language its files were written in.

A plan outside the caller's province is answered as an unknown one
(:class:`~api.core.errors.NotFound`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.core.api_keys import Principal
from api.core.errors import NotFound
from api.core.settings import Settings
from api.db.models import JobRow, PlanRow, ScenarioRow
from api.services.scope import parsed, sees
from api.services.storage import plan_dir
from planner.i18n import N_


def list_plans(session: Session, who: Principal) -> list[tuple[PlanRow, ScenarioRow]]:
    """The caller's visible plans with their scenarios, newest first."""
    q = (
        select(PlanRow, ScenarioRow)
        .join(ScenarioRow, PlanRow.scenario_id == ScenarioRow.id)
        .order_by(PlanRow.created_at.desc())
    )
    return [(p, s) for p, s in session.execute(q) if sees(who, s)]


@dataclass(frozen=True, slots=True)
class PlanRef:
    """What access checks and file reads need of a plan: its id and its scenario's scope."""

    id: str
    scenario_id: str
    provinces: frozenset[str]


_plan_refs: dict[str, PlanRef] = {}
"""Finished plans never change and ids are random, so their scope is cached for the process."""
_PLAN_REFS_MAX = 100_000


def _unknown(plan_id: str) -> NotFound:
    return NotFound(N_("no plan {id!r}"), id=plan_id)


def cached_plan_ref(plan_id: str) -> PlanRef | None:
    """A plan's id and scope when this process has seen it (no I/O)."""
    return _plan_refs.get(plan_id)


def forget_plans(plan_ids: list[str]) -> None:
    """Drop deleted plans from the cache of scopes."""
    for plan_id in plan_ids:
        _plan_refs.pop(plan_id, None)


def check_plan(ref: PlanRef, who: Principal | None) -> PlanRef:
    """``ref`` if the caller sees it, else not found (``who=None`` only for a verified
    signed link)."""
    if who is not None and not who.sees(ref.provinces):
        raise _unknown(ref.id)
    return ref


def plan_ref(session: Session, who: Principal | None, plan_id: str) -> PlanRef:
    """A plan's id and scope (cached); not found when unknown or outside the caller's
    province. ``who=None`` only for a verified signed link."""
    ref = _plan_refs.get(plan_id)
    if ref is None:
        row = session.execute(
            select(PlanRow.scenario_id, ScenarioRow.provinces)
            .join(ScenarioRow, PlanRow.scenario_id == ScenarioRow.id)
            .where(PlanRow.id == plan_id)
        ).first()
        if row is None:
            raise _unknown(plan_id)
        ref = PlanRef(plan_id, row[0], parsed(row[1]))
        if len(_plan_refs) >= _PLAN_REFS_MAX:
            _plan_refs.clear()
        _plan_refs[plan_id] = ref
    return check_plan(ref, who)


def get_plan(session: Session, who: Principal, plan_id: str) -> tuple[PlanRow, ScenarioRow]:
    """One plan and its scenario; not found when unknown or outside the caller's province."""
    found = session.execute(
        select(PlanRow, ScenarioRow)
        .join(ScenarioRow, PlanRow.scenario_id == ScenarioRow.id)
        .where(PlanRow.id == plan_id)
    ).first()
    if found is None or not sees(who, found[1]):
        raise _unknown(plan_id)
    return found[0], found[1]


def plan_folder(settings: Settings, ref: PlanRef) -> Path:
    """The folder of a plan's files."""
    return plan_dir(settings, ref.id)


def allocation_folder(settings: Settings, ref: PlanRef) -> Path:
    """The folder of a plan that has an allocation (``assignments.csv``); not found
    otherwise."""
    folder = plan_dir(settings, ref.id)
    if not (folder / "assignments.csv").is_file():
        raise NotFound(N_("plan {id!r} has no allocation"), id=ref.id)
    return folder


def plan_language(session: Session, plan_id: str) -> str | None:
    """The language a plan's files were written in (its job's), None when not recorded (a
    plan made before jobs recorded it: the server's default then)."""
    found = session.execute(
        select(JobRow.language)
        .join(PlanRow, PlanRow.job_id == JobRow.id)
        .where(PlanRow.id == plan_id)
    ).scalar_one_or_none()
    return found
