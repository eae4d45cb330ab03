"""Decisions with the optimiser, timed beside a fresh solve (issue 25).

Run: ``.venv/bin/python benchmarks/decide.py [--scenario builtin:tier-national] [--pins 20]
[--time-limit 300]``.

In one process, after the worker processes are started and the scenario is read:

1. a fresh solve (``planner.allocate``);
2. ``plan.explain`` of one applicant: the first placed applicant (file order) not on his
   first preference who names at least three areas, every alternative an exact solve under
   one pin;
3. a re-plan with ``--pins`` pins from the plan (``allocate(pins=, baseline=plan)``), all in
   the service province of that applicant, as a province office would set them: a quarter
   each of assign (a placed volunteer to another eligible post), forbid (a volunteer's
   current pair), close (a filled post) and exclude (a placed volunteer); and the same pins
   from scratch (no baseline).

Prints one table: what, seconds, objective, bound, gap, parts solved, ratio to the fresh
solve.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import planner
from planner import workers
from planner.allocation.arcs import ArcBuilder
from planner.geo import province_of
from planner.pins import Pins


def _explained(plan: planner.Plan) -> str:
    """The applicant to explain (module docstring)."""
    a = plan.assignments
    prefs = plan.problem.app_prefs
    index = {str(x): i for i, x in enumerate(plan.problem.applicant_id)}
    for aid, rank in zip(a["applicant_id"], a["preference_rank"], strict=True):
        if rank != 1 and int(np.sum(prefs[index[aid]] != "")) >= 3:
            return str(aid)
    return str(a["applicant_id"].iloc[0])


def _pins(plan: planner.Plan, province: str, n: int, seed: int = 0) -> Pins:
    """``n`` pins in service province ``province`` (module docstring), seeded."""
    rng = np.random.default_rng(seed)
    problem = plan.problem
    a = plan.assignments
    here = a[[province_of(str(c)) == province for c in a["county_code"]]]
    order = rng.permutation(len(here))
    k = max(n // 4, 1)
    rows = here.iloc[order]
    used: set[str] = set()
    assign: dict[str, str] = {}
    index = {str(x): i for i, x in enumerate(problem.applicant_id)}
    builder = ArcBuilder(problem)
    for aid, post in zip(rows["applicant_id"], rows["post_id"], strict=True):
        if len(assign) == k:
            break
        arcs = builder.arcs(np.asarray([index[str(aid)]]))
        others = [str(problem.post_id[p]) for p in arcs.p if str(problem.post_id[p]) != post]
        if others:
            assign[str(aid)] = others[int(rng.integers(len(others)))]
            used.update({str(aid), str(post), *others})
    rest = rows[~rows["applicant_id"].isin(list(used)) & ~rows["post_id"].isin(list(used))]
    forbid = list(zip(rest["applicant_id"][:k], rest["post_id"][:k], strict=True))
    taken = set(assign.values())
    close = [p for p in rest["post_id"][k:].unique() if p not in taken][:k]
    rest = rest[~rest["post_id"].isin(close)]
    exclude = [x for x in rest["applicant_id"][k:] if x not in assign][: n - 3 * k]
    return Pins(assign=assign, forbid=forbid, close_posts=close, exclude=exclude)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="builtin:tier-national")
    parser.add_argument("--pins", type=int, default=20)
    parser.add_argument("--time-limit", type=float, default=300.0)
    args = parser.parse_args()
    workers.start()
    t = time.perf_counter()
    sc = planner.read_scenario(args.scenario)
    read = time.perf_counter() - t
    params = planner.AllocationParams(time_limit=args.time_limit)
    rows: list[tuple[str, float, planner.Plan | None, str]] = []

    t = time.perf_counter()
    plan = planner.allocate(sc, params)
    fresh = time.perf_counter() - t
    rows.append(("fresh solve", fresh, plan, ""))

    aid = _explained(plan)
    t = time.perf_counter()
    e = plan.explain(aid, params)
    explain = time.perf_counter() - t
    alt = e.alternatives
    solved = int(alt["feasible"].sum() - (alt["reason_code"] == "placed").sum())
    rows.append((f"explain {aid} ({len(alt)} rows, {solved} solves)", explain, None, ""))

    province = province_of(e.county_code)
    pins = _pins(plan, province, args.pins)
    t = time.perf_counter()
    pinned = planner.allocate(sc, params, pins=pins, baseline=plan)
    replan = time.perf_counter() - t
    rows.append(
        (
            f"re-plan, {len(pins)} pins in {province}, baseline",
            replan,
            pinned,
            pinned.solution.notes[0],
        )
    )
    t = time.perf_counter()
    scratch = planner.allocate(sc, params, pins=pins)
    rows.append((f"the same {len(pins)} pins, no baseline", time.perf_counter() - t, scratch, ""))
    assert scratch.objective == pinned.objective, (scratch.objective, pinned.objective)

    print(
        f"scenario {args.scenario}: read in {read:.1f} s; {sc.data.applicants.applicant_id.size:,} applicants"
    )  # type: ignore[union-attr]
    print(f"explained {aid}:")
    print(alt.drop(columns=["reason"]).to_string(index=False))
    print(f"pins_cost {pinned.pins_cost:+,.0f}; pins {pins.to_frame().values.tolist()}")
    print()
    print("| what | seconds | x fresh | objective | bound | gap | note |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for what, seconds, p, note in rows:
        figures = f"{p.objective:,.0f} | {p.bound:,.0f} | {p.gap:.4%}" if p is not None else " | | "
        print(f"| {what} | {seconds:.2f} | {seconds / fresh:.2f} | {figures} | {note} |")


if __name__ == "__main__":
    main()
