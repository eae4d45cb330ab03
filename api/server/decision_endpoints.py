"""The office's decisions over the API (issue 25): an applicant's explanation with the exact
price of each preference, and two plans side by side. Pins themselves travel with
``POST /api/v1/scenarios/{id}/plans`` (``pins``, ``baseline_plan_id``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from api.core.errors import Invalid, NotFound
from api.server.deps import OfficeDep, SessionDep, SettingsDep, audited
from api.services import plans
from planner.i18n import N_

decision_api = APIRouter(prefix="/api/v1", tags=["plans"])


@decision_api.get(
    "/plans/{plan_id}/applicants/{applicant_id}/explanation",
    name="plan_explanation",
    dependencies=[Depends(audited("download", "explanation"))],
)
async def explanation(
    plan_id: str, applicant_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep
) -> dict[str, Any]:
    """Why an applicant is where the plan put him: his post, preference rank and cost terms,
    and per preference the best post there, whether it is feasible, ``extra_cost`` (exact: a
    certified solve under that one pin) and the reason, in the language of the request."""
    folder = plans.allocation_folder(settings, plans.plan_ref(session, who, plan_id))

    def explain() -> dict[str, Any]:
        import planner
        from planner.plan import AllocationParams

        solved = planner.read_plan(folder)
        params = AllocationParams(time_limit=settings.job_time_limit, workers=1)
        return solved.explain(applicant_id, params).to_dict()

    try:
        return await run_in_threadpool(explain)
    except KeyError:
        raise NotFound(N_("no applicant {id!r} in this plan"), id=applicant_id) from None
    except ValueError as exc:
        raise Invalid(N_("{problem}"), problem=str(exc)) from None


@decision_api.get(
    "/plans/{plan_id}/diff/{other_id}",
    name="plan_diff",
    dependencies=[Depends(audited("download", "diff"))],
)
def diff(
    plan_id: str, other_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep
) -> dict[str, Any]:
    """Who changed from plan ``other_id`` (before) to plan ``plan_id`` (after): one row per
    applicant placed in either, ``change`` kept, moved, placed or unplaced, and the counts."""
    from geodata.planfolder import read_table
    from planner.diff import CHANGES, diff_assignments

    after, before = (plans.plan_ref(session, who, i) for i in (plan_id, other_id))
    tables = []
    for ref in (before, after):
        path = plans.allocation_folder(settings, ref) / "assignments.csv"
        tables.append(read_table(path, required=("applicant_id", "post_id")))
    d = diff_assignments(tables[0], tables[1])
    counts = d["change"].value_counts()
    return {
        "before": before.id,
        "after": after.id,
        "counts": {c: int(counts.get(c, 0)) for c in CHANGES},
        "rows": d.to_dict(orient="records"),
    }
