"""Scenarios: an upload unpacked, checked, validated and kept (or the one the caller already
has with the same bytes), its validation report, and deleting it with everything made from it.

Raises the domain errors of :mod:`api.core.errors`; the upload's own checks are
:mod:`api.services.uploads`'.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.core.api_keys import Principal
from api.core.errors import Conflict, Forbidden, Invalid, Unreadable
from api.core.roads import confined
from api.core.settings import Settings
from api.db.models import JobRow, PlanRow, ScenarioRow, SweepRow
from api.services import results, storage
from api.services.jobs import FINAL
from api.services.messages import first_errors
from api.services.plans import forget_plans
from api.services.scope import get_scenario, scenario_scope, sees, stored
from api.services.uploads import (
    Upload,
    check_table_sizes,
    read_limits,
    refuse_too_large,
    unpack,
)
from geodata.limits import reading_limits
from geodata.scenario import load_scenario
from planner.i18n import N_, Text
from planner.issues import Report
from planner.scenario import Scenario

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Stored:
    """An upload's scenario: the one just stored, or (``existing``) the scenario the caller
    already has with the same bytes."""

    row: ScenarioRow
    existing: bool = False


def validation(row: ScenarioRow) -> dict[str, Any]:
    """A stored scenario's validation report for an answer, its messages in the language of
    the moment (the row keeps them as templates: :meth:`~planner.issues.Report.to_data`)."""
    return Report.from_data(row.validation).to_dict()


def same_upload(session: Session, who: Principal, content_sha256: str) -> ScenarioRow | None:
    """The oldest stored scenario with these bytes that ``who`` sees, or None."""
    rows = session.scalars(
        select(ScenarioRow)
        .where(ScenarioRow.content_sha256 == content_sha256)
        .order_by(ScenarioRow.created_at)
    )
    return next((r for r in rows if sees(who, r)), None)


def _read_valid(settings: Settings, source: Path) -> Scenario:
    """The uploaded scenario read under the service's limits; refused when it is too large,
    not a workbook or invalid (with the full report). A ``[routing] roads`` path outside the
    upload is refused before anything reads it: an answer must not tell whether a server
    path holds a road graph."""
    confined(source)
    with reading_limits(read_limits(settings)):
        result = load_scenario(source)
    refuse_too_large(result.report)
    unreadable = [i for i in result.report.errors if i.rule == "not-a-workbook"]
    if unreadable:
        raise Unreadable(unreadable[0].text, extra={"validation": result.report})
    if not result.valid:
        raise Invalid(
            N_("the scenario has {n} error(s): {errors}"),
            extra={"validation": result.report},
            n=len(result.report.errors),
            errors=first_errors(result.report),
        )
    if source.is_file():  # a workbook: its tables were counted by the reader
        check_table_sizes(result.data.table_sizes(), settings.max_rows)
    return result


def _check_scope(who: Principal, scope: frozenset[str]) -> None:
    """Forbidden when a province key uploads a scenario serving another province."""
    if who.role == "province" and not who.sees(scope):
        raise Forbidden(
            N_(
                "this key may upload only scenarios whose service counties all lie in "
                "province {province}; this one serves province(s) {others}"
            ),
            province=who.province,
            others=", ".join(sorted(scope - {who.province or ""})) or "-",
        )


def create_scenario(
    session: Session,
    settings: Settings,
    who: Principal,
    archive: Upload | None,
    files: list[Upload] | None = None,
) -> Stored:
    """Unpack, check and validate an upload (a zip, or the files one by one); keep it when valid.
    The same bytes uploaded again (SHA-256) are not stored twice: the answer is the scenario
    the caller already has (``existing``).

    Raises
    ------
    TooLarge, Unreadable, BadRequest, Invalid
        Too large, not a zip or workbook, an unsafe zip, invalid (with the full report).
    Forbidden
        A province key uploads another province's scenario.
    StorageFull
        The key's quota is reached.
    """
    files = files or []
    if archive is None and not files:
        raise Invalid(N_("no file: send the zip or the .xlsx workbook as multipart field 'file'"))
    storage.check_quota(session, settings, who.key_id, 0)  # a full key uploads nothing more
    sid = storage.new_id()
    work = settings.data_dir / "tmp" / sid
    work.mkdir(parents=True)
    try:
        digest = hashlib.sha256()
        source = unpack(settings, work, archive, files, digest)
        content = digest.hexdigest()
        result = _read_valid(settings, source)
        scope = scenario_scope(result)
        _check_scope(who, scope)
        same = same_upload(session, who, content)  # checked as a new upload was, first
        if same is not None:
            log.info("scenario %s uploaded again: same bytes as %s", sid, same.id)
            return Stored(same, existing=True)
        kept = storage.keep_used(source)  # only what the planner reads
        storage.check_quota(session, settings, who.key_id, kept)
        dest = storage.scenario_dir(settings, sid)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source.parent if source.is_file() else source), dest)
        s = result.data
        row = ScenarioRow(
            id=sid,
            name=s.name,
            year=s.year,
            synthetic=s.synthetic,
            filename=archive.filename if archive is not None else "(files)",
            provinces=stored(scope),
            tables=s.table_sizes(),
            validation=result.report.to_data(),
            stored_bytes=kept,
            created_by=who.key_id,
            content_sha256=content,
        )
        session.add(row)
        session.commit()
        log.info("scenario %s (%s) stored", sid, s.name)
        return Stored(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- deleting a scenario ---------------------------------------------------------------------


_JOB_STATES = {"queued": N_("queued"), "running": N_("running")}
"""A busy job's state as words (the page's, in the reader's language)."""


@dataclass(frozen=True, slots=True)
class Deleted:
    """What deleting a scenario removed."""

    scenario_id: str
    jobs: int
    plans: int
    sweeps: int
    bytes: int
    """Bytes of files removed: the scenario's, its plans', sweeps' and job logs'."""


def _refuse_busy(
    session: Session, row: ScenarioRow, jobs: list[JobRow], plan_ids: list[str]
) -> None:
    """Conflict while a job of the scenario, or one re-planning from one of its plans, is
    queued or running."""
    busy = [j for j in jobs if j.state not in FINAL]
    if plan_ids:
        busy += session.scalars(
            select(JobRow).where(
                JobRow.previous_plan_id.in_(plan_ids), JobRow.state.in_(("queued", "running"))
            )
        ).all()
    if busy:
        session.rollback()
        raise Conflict(
            N_(
                "scenario {id!r} cannot be deleted while job {job!r} is {state}; cancel the "
                "job or wait for it to end"
            ),
            id=row.id,
            job=busy[0].id,
            state=Text(_JOB_STATES.get(busy[0].state, busy[0].state)),
        )


def delete_scenario(
    session: Session, settings: Settings, who: Principal, scenario_id: str
) -> Deleted:
    """Delete a scenario the caller sees together with everything made from it: its jobs, its
    plans and sweeps (rows and files) and the jobs' logs. A plan cannot outlive its scenario:
    its tables hold the scenario's applicants, and the scenario's scope is what decides who
    may read it. The audit trail keeps its events.

    Raises
    ------
    NotFound
        A scenario the caller does not see.
    Conflict
        While a job of it is queued or running, or while a queued or running job re-plans
        from one of its plans (cancel it first, or wait for it to end).
    """
    row = get_scenario(session, who, scenario_id)
    # lock the row: a job queued from now on waits for this transaction (PostgreSQL), then
    # finds no scenario
    session.execute(select(ScenarioRow.id).where(ScenarioRow.id == row.id).with_for_update())
    jobs = list(session.scalars(select(JobRow).where(JobRow.scenario_id == row.id)).all())
    plans = session.scalars(select(PlanRow).where(PlanRow.scenario_id == row.id)).all()
    sweeps = session.scalars(select(SweepRow).where(SweepRow.scenario_id == row.id)).all()
    plan_ids = [p.id for p in plans]
    _refuse_busy(session, row, jobs, plan_ids)
    files = [storage.scenario_dir(settings, row.id)]
    files += [storage.plan_dir(settings, p) for p in plan_ids]
    files += [storage.sweep_dir(settings, w.id) for w in sweeps]
    files += [storage.job_log(settings, j.id) for j in jobs]
    size = sum(storage.bytes_under(f) for f in files if f.exists())
    for rows in (plans, sweeps, jobs):
        for r in rows:
            session.delete(r)
        session.flush()  # children before their parents (foreign keys)
    session.delete(row)
    session.commit()
    storage.remove(files)  # after the commit: a failed commit leaves everything as it was
    forget_plans(plan_ids)
    for folder in files:
        results.forget(folder)
    log.info("scenario %s deleted with %d plan(s), %d sweep(s)", row.id, len(plans), len(sweeps))
    return Deleted(row.id, len(jobs), len(plans), len(sweeps), size)
