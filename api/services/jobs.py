"""Jobs: a plan or a sweep of a scenario queued for the runner (:mod:`api.server.jobs`), their
list, state and cancellation, scoped to the caller.

A plan job's pins are checked as ``pins.csv`` rows and a sweep's axes as ``planner sweep``
checks them before anything is queued, every problem named at once
(:class:`~api.core.errors.Invalid`).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.core.api_keys import Principal
from api.core.errors import Conflict, Invalid, NotFound
from api.core.settings import Settings
from api.db.models import JobRow, ScenarioRow, utcnow
from api.services.messages import joined
from api.services.plans import plan_ref
from api.services.scope import get_scenario, provinces, sees, visible
from api.services.storage import new_id, plan_dir
from planner.i18n import N_, Text
from planner.sweep import Vary, VaryError, check_province, variants

STATES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
FINAL = frozenset({"succeeded", "failed", "cancelled", "interrupted"})


def _check_allocation(
    settings: Settings, session: Session, who: Principal, plan_id: str, template: str
) -> str:
    """The id of a plan the caller sees that has an allocation; :class:`Invalid` (with
    ``template``) when it has none."""
    ref = plan_ref(session, who, plan_id)
    if not (plan_dir(settings, ref.id) / "assignments.csv").is_file():
        raise Invalid(template, id=ref.id)
    return ref.id


def create_job(
    session: Session,
    settings: Settings,
    who: Principal,
    scenario_id: str,
    time_limit: float | None,
    previous_plan_id: str | None = None,
    language: str | None = None,
    pins: list[dict[str, str]] | None = None,
    baseline_plan_id: str | None = None,
    roads: str | None = None,
) -> JobRow:
    """Queue a plan job of a scenario the caller sees (a re-plan with ``previous_plan_id``;
    routes on the road network ``roads``, a name of :func:`api.core.roads.networks`);
    ``language`` is the language its files are written in (the person's who started it;
    ``None``: the server's ``PLANNER_LANG``, else the scenario's, else the system's).

    Raises
    ------
    NotFound
        A scenario or previous plan the caller does not see.
    Invalid
        The previous plan has no allocation, or a pin row is incomplete (each row named), or
        ``roads`` is not a road network of the server.
    """
    get_scenario(session, who, scenario_id)
    options = _pin_options(session, settings, who, pins, baseline_plan_id)
    if roads is not None:
        from api.core.roads import resolve

        resolve(settings.roads_dir, roads)  # Invalid naming it and the available ones
        options = {**(options or {}), "roads": roads}
    if previous_plan_id is not None:
        _check_allocation(
            settings,
            session,
            who,
            previous_plan_id,
            N_("plan {id!r} has no assignments; a re-plan needs an allocation plan"),
        )
    return _queue(
        session,
        JobRow(
            scenario_id=scenario_id,
            time_limit=time_limit or settings.job_time_limit,
            previous_plan_id=previous_plan_id,
            language=language,
            created_by=who.key_id,
            options=options,
        ),
    )


def _pin_options(
    session: Session,
    settings: Settings,
    who: Principal,
    pins: list[dict[str, str]] | None,
    baseline_plan_id: str | None,
) -> dict[str, Any] | None:
    """A plan job's ``options`` for its pins (checked as ``pins.csv`` rows) and baseline."""
    if not pins:
        return None
    import pandas as pd

    from planner.pins import PIN_COLUMNS, PinError, Pins

    frame = pd.DataFrame([[p.get(c, "") for c in PIN_COLUMNS] for p in pins], columns=PIN_COLUMNS)
    try:
        Pins.from_frame(frame, "pins")
    except PinError as exc:
        first = exc.report.errors[0]
        raise Invalid(
            first.text, extra={"issues": [i.to_dict() for i in exc.report.errors]}
        ) from None
    options: dict[str, Any] = {"pins": frame.values.tolist()}
    if baseline_plan_id is not None:
        options["baseline_plan_id"] = _check_allocation(
            settings,
            session,
            who,
            baseline_plan_id,
            N_("plan {id!r} has no assignments; pins need an allocation plan"),
        )
    return options


def _queue(session: Session, job: JobRow) -> JobRow:
    """Store ``job`` as queued under a new id."""
    job.id, job.state, job.stage, job.progress = new_id(), "queued", "queued", 0.0
    session.add(job)
    try:
        session.commit()
    except IntegrityError:  # its scenario was deleted meanwhile
        session.rollback()
        raise NotFound(N_("no scenario {id!r}"), id=job.scenario_id) from None
    return job


def create_sweep_job(
    session: Session,
    settings: Settings,
    who: Principal,
    scenario_id: str,
    vary: list[str],
    time_limit: float | None,
    language: str | None = None,
) -> JobRow:
    """Queue a sweep job of a scenario the caller sees: the base and every variant of the
    ``vary`` axes (``KEY=V1,V2,...`` as ``planner sweep --vary``), each planned with
    ``time_limit`` seconds; ``language`` as in :func:`create_job`.

    Raises
    ------
    NotFound
        A scenario the caller does not see.
    Invalid
        Naming every bad key or value, a key varied twice, a quota scale of a province the
        scenario does not serve, more variants than ``PLANNER_MAX_SWEEP_VARIANTS``, or a
        scenario without allocation tables.
    """
    row = get_scenario(session, who, scenario_id)
    if not (row.tables.get("posts") and row.tables.get("applicants")):
        raise Invalid(N_("the scenario has no allocation tables (posts, applicants)"))
    axes = check_vary(vary, provinces(row), settings.max_sweep_variants)
    plans = len(variants(axes)) + 1  # the base and every variant
    return _queue(
        session,
        JobRow(
            scenario_id=scenario_id,
            kind="sweep",
            options={"vary": [v.strip() for v in vary], "plans": plans},
            time_limit=time_limit or settings.job_time_limit,
            language=language,
            created_by=who.key_id,
        ),
    )


def check_vary(vary: list[str], scope: frozenset[str], limit: int) -> list[Vary]:
    """The axes of a sweep, checked as ``planner sweep`` checks them, before a job is queued.

    Raises
    ------
    Invalid
        Naming every problem at once (:class:`~planner.sweep.VaryError`'s messages, in the
        request's language).
    """
    problems: list[Text] = []
    axes = []
    for text in vary:
        try:
            axis = Vary.parse(text)
            check_province(axis.key, scope)
            axes.append(axis)
        except VaryError as exc:
            problems.append(exc.text)
    if not vary:
        problems.append(Text(N_("no vary: give at least one KEY=V1,V2,...")))
    if not problems:
        count = math.prod(len(a.values) for a in axes)
        if count > limit:
            problems.append(
                Text(
                    N_(
                        "the sweep has {n:,} variants; at most {limit:,} are accepted "
                        "(PLANNER_MAX_SWEEP_VARIANTS)"
                    ),
                    {"n": count, "limit": limit},
                )
            )
        else:
            try:
                variants(axes)
            except VaryError as exc:
                problems.append(exc.text)
    if problems:
        raise Invalid(N_("the sweep cannot be planned: {problems}"), problems=joined(problems, 10))
    return axes


def list_jobs(session: Session, who: Principal, scenario_id: str | None = None) -> list[JobRow]:
    """The caller's visible jobs, newest first (optionally of one scenario)."""
    q = select(JobRow).order_by(JobRow.created_at.desc())
    if scenario_id:
        q = q.where(JobRow.scenario_id == scenario_id)
    jobs = session.scalars(q).all()
    seen = visible(who, session.scalars(select(ScenarioRow)).all())
    return [j for j in jobs if j.scenario_id in seen]


def get_job(session: Session, who: Principal, job_id: str) -> JobRow:
    """One job; not found when unknown or outside the caller's province."""
    job = session.get(JobRow, job_id)
    scenario = session.get(ScenarioRow, job.scenario_id) if job is not None else None
    if job is None or scenario is None or not sees(who, scenario):
        raise NotFound(N_("no job {id!r}"), id=job_id)
    return job


def cancel_job(session: Session, who: Principal, job_id: str) -> JobRow:
    """Mark a queued or running job cancelled (the runner then kills its worker).

    Raises
    ------
    Conflict
        The job has already finished.
    """
    job = get_job(session, who, job_id)
    if job.state in FINAL:
        raise Conflict(N_("job {id!r} has already finished ({state})"), id=job_id, state=job.state)
    job.state = "cancelled"
    job.stage = "cancelled"
    job.finished_at = utcnow()
    session.commit()
    return job
