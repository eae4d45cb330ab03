"""The office's pins (:class:`planner.pins.Pins`) as a transformation of the problem, and the
certified solve under them.

How each pin enters the model (``docs/allocation.md``, "Pins"):

- **close** a post: the post is not usable (no arc reaches it); its open seats stay what they
  were, so its empty relay seats still count in term 1, as in the plan without the pin;
- **exclude** an applicant: he is not eligible anywhere (as if he had failed the health check);
- **forbid** a pair: the pair is not eligible (:meth:`ArcBuilder.arcs_for_pairs`); such an
  applicant leaves the hubs of the compact network and reaches each of his other eligible
  posts by a direct arc, so the relaxation, the pricing and the compact MIP stay exact;
- **assign** ``a -> p``: the arc gets a bonus ``-M`` and the objective a constant ``+M``,
  the way term 6 keeps a previous volunteer on his post, in a term of its own
  (``AllocationProblem.app_pin_post``/``pin_bonus``) beside term 6, so a re-plan keeps its
  previous plan's term unchanged (the arc is one of the network's direct arcs and every solver
  already knows it). A plan that honours every assign pin has
  the same value in both objectives, every other plan pays ``M`` per pin it breaks, so the
  proven bound of the transformed problem is a proven bound of every plan that honours the
  pins, and its optimum, when it honours them, is the optimum under the pins. ``M`` is first
  a local bound (a pin broken by an optimum could be mended by a few moves, each worth less
  than ``M``); when an optimum still breaks a pin, ``M`` is raised above the value range of
  every plan, and a pin broken then cannot be honoured with the others.

Rules a pin breaks by itself are found before solving (:func:`check_pins`); pins that fail
only together are narrowed to a small conflicting set by deletion (:func:`conflict`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner.allocation.arcs import ArcBuilder, tier_cny
from planner.allocation.components import Part, split
from planner.allocation.lp import share_fraction
from planner.allocation.problem import UNBOUNDED, AllocationProblem
from planner.allocation.solver import AllocationSolution, SolveStats, solve_allocation
from planner.allocation.status import judge
from planner.i18n import N_
from planner.issues import Report
from planner.pins import Pin, PinError, Pins

PINS_FILE = "pins"
"""The file named by the issues of pins given as a :class:`Pins` (``pins.csv`` when read)."""
LOCAL_MOVES = 8
"""A broken assign pin is mended by at most this many moves, each worth at most the largest
arc cost (the first bonus ``M``)."""


@dataclass(frozen=True, slots=True)
class Indexed:
    """The pins in the problem's indices."""

    assign_a: np.ndarray
    assign_p: np.ndarray
    forbid: np.ndarray
    """Keys ``a * n_posts + p``, sorted."""
    closed: np.ndarray
    excluded: np.ndarray


def index_pins(problem: AllocationProblem, pins: Pins) -> Indexed:
    """The pins' applicants and posts as indices (unknown ids raise; see :func:`check_pins`)."""
    app = {str(a): i for i, a in enumerate(problem.applicant_id)}
    post = {str(p): i for i, p in enumerate(problem.post_id)}
    i64 = np.int64
    return Indexed(
        assign_a=np.asarray([app[a] for a in pins.assign], dtype=i64),
        assign_p=np.asarray([post[p] for p in pins.assign.values()], dtype=i64),
        forbid=np.unique(
            np.asarray([app[a] * problem.n_posts + post[p] for a, p in pins.forbid], dtype=i64)
        ),
        closed=np.asarray([post[p] for p in pins.close_posts], dtype=i64),
        excluded=np.asarray([app[a] for a in pins.exclude], dtype=i64),
    )


def restrict(problem: AllocationProblem, ix: Indexed) -> AllocationProblem:
    """The problem with the closed posts, the excluded applicants and the forbidden pairs
    (the objective unchanged for every plan that keeps them)."""
    usable = problem.post_usable.copy()
    usable[ix.closed] = False
    block = problem.post_block.copy()
    block[ix.closed] = "closed"
    health = problem.app_health.copy()
    health[ix.excluded] = False
    return dataclasses.replace(
        problem, post_usable=usable, post_block=block, app_health=health, pin_forbid=ix.forbid
    )


def force(problem: AllocationProblem, ix: Indexed, bonus: int) -> AllocationProblem:
    """The problem whose optimum honours the assign pins (module docstring): each pinned arc
    saves ``bonus`` and the constant holds ``bonus`` per pin (term 6 of a re-plan untouched)."""
    pin = np.full(problem.n_applicants, -1, dtype=np.int64)
    pin[ix.assign_a] = ix.assign_p
    return dataclasses.replace(problem, app_pin_post=pin, pin_bonus=int(bonus))


def largest_arc_cost(problem: AllocationProblem) -> float:
    """An upper bound of ``|cost|`` of every arc."""
    w = problem.weights
    worst_rank = max(w.outside_preference, 4 * w.preference_rank)
    subsidy = w.transport_subsidy_per_100cny * float(tier_cny(problem).max(initial=0)) / 100.0
    return float(
        w.relay_empty + w.quota_unfilled + worst_rank + w.major_mismatch + subsidy + w.replan_move
    )


# --- the rules a pin breaks by itself --------------------------------------------------------


def check_pins(problem: AllocationProblem, pins: Pins) -> Report:
    """The hard rules each pin, or each group of pins on one capacity, breaks by itself.

    Every issue is an error in file ``pins`` at the pin's line (its ``pins.csv`` line, else
    its place among :attr:`Pins.items` plus one), column the action, naming the pin."""
    report = Report()
    items = pins.items
    line = {id(p): (p.line if p.line is not None else k + 2) for k, p in enumerate(items)}
    app = {str(a): i for i, a in enumerate(problem.applicant_id)}
    post = {str(p): i for i, p in enumerate(problem.post_id)}

    def error(pin: Pin, rule: str, message: str, **fields: object) -> None:
        # every caller passes ``message`` marked with N_ (the pin and its fields are filled in
        # when the issue is read)
        found = report
        found.error(
            PINS_FILE, line[id(pin)], pin.action, rule, message, pin=pin.describe(), **fields
        )

    known: list[Pin] = []
    for pin in items:
        if pin.applicant_id and pin.applicant_id not in app:
            error(
                pin,
                "pin-unknown",
                N_("{pin}: no applicant {id} in the scenario"),
                id=pin.applicant_id,
            )
        elif pin.post_id and pin.post_id not in post:
            error(pin, "pin-unknown", N_("{pin}: no post {id} in the scenario"), id=pin.post_id)
        else:
            known.append(pin)
    if not report.ok:
        return report
    assigns = [p for p in known if p.action == "assign"]
    _pairwise(known, error)
    for pin in assigns:
        _eligible(problem, pin, app[pin.applicant_id], post[pin.post_id], error)
    if report.ok:
        _capacities(problem, assigns, app, post, error)
    if report.ok:
        _share(problem, pins, assigns, app, error)
    return report


def _pairwise(known: list[Pin], error: Callable[..., None]) -> None:
    """Pins that contradict each other (assign and exclude the same applicant, assign and
    forbid the same pair, assign to a closed post)."""
    by_action: dict[str, dict[tuple[str, str], Pin]] = {}
    for pin in known:
        by_action.setdefault(pin.action, {})[(pin.applicant_id, pin.post_id)] = pin
    excluded = {a: p for (a, _), p in by_action.get("exclude", {}).items()}
    closed = {q: p for (_, q), p in by_action.get("close", {}).items()}
    forbidden = by_action.get("forbid", {})
    for (a, q), pin in by_action.get("assign", {}).items():
        for other in (excluded.get(a), closed.get(q), forbidden.get((a, q))):
            if other is not None:
                error(pin, "pin-conflict", N_("{pin} contradicts {other}"), other=other.describe())


def _eligible(
    problem: AllocationProblem, pin: Pin, a: int, p: int, error: Callable[..., None]
) -> None:
    """A5, A3 and the post's own usability (A1, A2) for one assign pin."""
    block = str(problem.post_block[p])
    r = int(problem.app_r[a])
    s = int(problem.post_s[p])
    if block == "barred":
        error(pin, "A2", N_("{pin}: the post's county is barred (A2)"))
    elif block in ("no-quota", "quota-0"):
        error(pin, "A2", N_("{pin}: the post's county has no quota for its category (A2)"))
    elif block == "no-open-seat":
        error(pin, "A1", N_("{pin}: the post has no open seat (A1)"))
    if not problem.app_health[a]:
        error(pin, "A5", N_("{pin}: the applicant did not pass the health check (A5)"))
    if r < 0 or s < 0 or problem.pair_index[r, s] < 0:
        error(pin, "A3", N_("{pin}: the applicant's province is not paired with the post's (A3)"))
    if problem.app_degree[a] < problem.post_min_degree[p]:
        error(pin, "A5", N_("{pin}: the post requires a higher degree (A5)"))
    req = int(problem.post_req_mask[p])
    if req and not req & int(problem.app_major_bit[a]):
        error(pin, "A5", N_("{pin}: the post requires another major (A5)"))
    if not problem.rules.allow_outside_preferences:
        county, province = str(problem.post_county[p]), str(problem.post_county[p])[:2] + "0000"
        if not any(str(c) in (county, province) for c in problem.app_prefs[a]):
            error(pin, "A5", N_("{pin}: the post is not among the applicant's preferences (A5)"))


def _capacities(
    problem: AllocationProblem,
    assigns: list[Pin],
    app: dict[str, int],
    post: dict[str, int],
    error: Callable[..., None],
) -> None:
    """More assign pins on one capacity than it holds (A1 post, A2 bucket, A3 pair, A6)."""
    a = np.asarray([app[x.applicant_id] for x in assigns], dtype=np.int64)
    p = np.asarray([post[x.post_id] for x in assigns], dtype=np.int64)
    if not len(a):
        return
    r, s = problem.app_r[a], problem.post_s[p]
    groups = [
        (
            "A1",
            N_("{pin}: {n} pins on post {what}, which has {cap} open seat(s) (A1)"),
            p,
            problem.post_open,
            problem.post_id,
        ),
        (
            "A2",
            N_("{pin}: {n} pins in the quota bucket {what}, which holds {cap} (A2)"),
            problem.post_bucket[p],
            problem.bucket_cap,
            np.asarray(
                [
                    f"{problem.county_code[c]} {k}"
                    for c, k in zip(problem.bucket_county, problem.bucket_kind, strict=True)
                ]
            ),
        ),
        (
            "A6",
            N_("{pin}: {n} pins in service province {what}, whose dispatch target is {cap} (A6)"),
            s,
            problem.service_cap,
            problem.service_code,
        ),
        (
            "A6",
            N_(
                "{pin}: {n} pins from recruiting province {what}, whose recruitment "
                "target is {cap} (A6)"
            ),
            r,
            problem.recruit_cap,
            problem.recruit_code,
        ),
        (
            "A3",
            N_("{pin}: {n} pins on pair {what}, which has {cap} seat(s) (A3)"),
            problem.pair_index[r, s],
            problem.pair_cap,
            np.asarray(
                [
                    f"{problem.service_code[ss]} <- {problem.recruit_code[rr]}"
                    for rr, ss in zip(*np.nonzero(problem.pair_index >= 0), strict=True)
                ]
            )[np.argsort(problem.pair_index[problem.pair_index >= 0])],
        ),
    ]
    for rule, message, group, cap, names in groups:
        for g in np.unique(group).tolist():
            mine = np.flatnonzero(group == g)
            if len(mine) > cap[g] and cap[g] < UNBOUNDED:
                for k in mine.tolist():
                    error(
                        assigns[k], rule, message, n=len(mine), what=str(names[g]), cap=int(cap[g])
                    )


def _share(
    problem: AllocationProblem,
    pins: Pins,
    assigns: list[Pin],
    app: dict[str, int],
    error: Callable[..., None],
) -> None:
    """Assign pins whose non-bachelors no bachelor of their province could balance (A4):
    ``n (P + X) <= d (B + X)`` needs ``X`` more bachelors placed, and fewer are eligible
    anywhere (or the recruitment target leaves no room for them)."""
    frac = share_fraction(problem.rules.undergraduate_min_share)
    n, d = frac.numerator, frac.denominator
    if not assigns:
        return
    a = np.asarray([app[x.applicant_id] for x in assigns], dtype=np.int64)
    r = problem.app_r[a]
    out = np.zeros(problem.n_applicants, dtype=bool)
    out[a] = True  # (excluded bachelors count: pins that fail only together are named apart)
    for rr in np.unique(r).tolist():
        mine = r == rr
        placed, bachelors = int(mine.sum()), int((mine & problem.app_bachelor[a]).sum())
        excess = n * placed - d * bachelors
        if excess <= 0:
            continue
        needed = math.ceil(excess / (d - n)) if d > n else math.inf
        others = np.flatnonzero((problem.app_r == rr) & problem.app_bachelor & ~out)
        reach, _ = ArcBuilder(problem).reach(others) if len(others) else (np.zeros(0, bool), None)
        room = int(problem.recruit_cap[rr]) - placed
        available = min(int(np.sum(reach)), room)
        if available < needed:
            for k in np.flatnonzero(mine & ~problem.app_bachelor[a]).tolist():
                error(
                    assigns[k],
                    "A4",
                    N_(
                        "{pin}: the pins from {province} need {needed} more bachelor(s) "
                        "placed to keep the bachelor share (A4); {available} can be"
                    ),
                    province=str(problem.recruit_code[rr]),
                    needed=needed,
                    available=available,
                )


# --- the solve ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PinnedSolve:
    """The plan under the pins, in the indices of the problem without them."""

    solution: AllocationSolution
    parts_solved: int
    """Independent parts of the pairing solved again (the others kept from the baseline)."""


def solve_pinned(
    problem: AllocationProblem,
    pins: Pins,
    time_limit: float,
    gap_tolerance: float,
    workers: int | None,
    baseline: AllocationSolution | None = None,
) -> PinnedSolve:
    """The certified optimum of ``problem`` under ``pins`` (checked by :func:`check_pins` first).

    With a ``baseline`` (a plan of ``problem`` itself), only the independent parts of the pairing
    that a pin touches are solved again; the others keep the baseline's plan, and the proven
    bound is the baseline's, less the touched parts' share of the baseline's objective, plus
    their new bounds.

    Raises
    ------
    PinError
        A pin breaks a rule by itself, or the pins cannot hold together (the issue names a
        small conflicting set).
    """
    report = check_pins(problem, pins)
    if not report.ok:
        raise PinError(report)
    t0 = time.perf_counter()
    solved = _solve(problem, pins, time_limit, gap_tolerance, workers, baseline)
    if solved is None:
        raise PinError(
            _conflict_report(conflict(problem, pins, time_limit, gap_tolerance, workers, baseline))
        )
    solution, n_parts = solved
    stats = dataclasses.replace(solution.stats, solve_seconds=time.perf_counter() - t0)
    return PinnedSolve(dataclasses.replace(solution, stats=stats), n_parts)


def _solve(
    problem: AllocationProblem,
    pins: Pins,
    time_limit: float,
    gap_tolerance: float,
    workers: int | None,
    baseline: AllocationSolution | None,
) -> tuple[AllocationSolution, int] | None:
    """The optimum under the pins, or None when an assign pin cannot be honoured."""
    ix = index_pins(problem, pins)
    restricted = restrict(problem, ix)
    largest = largest_arc_cost(problem)
    bonuses = [int(LOCAL_MOVES * (largest + 1))]
    # above the value range of every plan: a plan breaking a pin then always loses
    bonuses.append(int(2 * (problem.n_applicants + 1) * (largest + 1)))
    for bonus in bonuses if len(ix.assign_a) else bonuses[:1]:
        if not len(ix.assign_a):
            bonus = 0
        forced = force(restricted, ix, bonus) if bonus else restricted
        sol, n_parts = _solve_forced(
            problem, forced, ix, bonus, time_limit, gap_tolerance, workers, baseline
        )
        if np.all(sol.post_of[ix.assign_a] == ix.assign_p):
            return sol, n_parts
    return None


def _solve_forced(
    problem: AllocationProblem,
    forced: AllocationProblem,
    ix: Indexed,
    bonus: int,
    time_limit: float,
    gap_tolerance: float,
    workers: int | None,
    baseline: AllocationSolution | None,
) -> tuple[AllocationSolution, int]:
    """Solve ``forced`` (all of it, or with a baseline its touched parts; ``bonus``: that of
    its assign pins, 0 without) and express the plan and its bound in ``problem``'s objective."""
    builder = ArcBuilder(problem)
    if baseline is None:
        sol = solve_allocation(forced, time_limit, gap_tolerance, workers)
        # a plan honouring the pins has the same value in both objectives (module docstring)
        return _in_original(problem, builder, sol.post_of, sol.bound, sol, gap_tolerance), len(
            split(forced)
        )
    post_of = baseline.post_of.copy()
    bound = baseline.bound
    solved = 0
    last: AllocationSolution | None = None
    for part in split(forced):
        if not _touches(part, ix, problem.n_posts):
            continue
        solved += 1
        sol = solve_allocation(part.problem, time_limit, gap_tolerance, workers)
        last = sol
        base = baseline.post_of[part.applicants]
        placed = base >= 0
        base_arcs = builder.arcs_for_pairs(part.applicants[placed], base[placed])
        # the part's share of the baseline's objective is at least its share of the bound
        bound -= float(base_arcs.cost.sum())
        # the part's constant in problem's objective: without the bonus of its assign pins
        k = int(np.isin(part.applicants, ix.assign_a).sum())
        bound += sol.bound - (part.problem.constant() - k * bonus)
        post_of[part.applicants] = -1
        mine = sol.post_of >= 0
        post_of[part.applicants[mine]] = part.posts[sol.post_of[mine]]
    return _in_original(problem, builder, post_of, bound, last, gap_tolerance), solved


def _touches(part: Part, ix: Indexed, n_posts: int) -> bool:
    """Whether a pin names an applicant or a post of an independent part of the pairing."""
    pinned_apps = np.concatenate([ix.assign_a, ix.excluded, ix.forbid // max(n_posts, 1)])
    return bool(np.isin(part.applicants, pinned_apps).any() or np.isin(part.posts, ix.closed).any())


def untouched_applicants(problem: AllocationProblem, *pin_sets: Pins | None) -> np.ndarray:
    """The applicants of the independent parts of the pairing that none of ``pin_sets``
    touches: their placements and fairness pairs are a baseline's (sorted indices)."""
    sets = [index_pins(problem, p) for p in pin_sets if p]
    kept = [
        part.applicants
        for part in split(problem)
        if not any(_touches(part, ix, problem.n_posts) for ix in sets)
    ]
    return np.sort(np.concatenate(kept)) if kept else np.zeros(0, dtype=np.int64)


def _in_original(
    problem: AllocationProblem,
    builder: ArcBuilder,
    post_of: np.ndarray,
    bound: float,
    sol: AllocationSolution | None,
    gap_tolerance: float,
) -> AllocationSolution:
    """The plan ``post_of`` with its arcs and value in ``problem``'s objective."""
    a = np.flatnonzero(post_of >= 0)
    arcs = builder.arcs_for_pairs(a, post_of[a])
    objective = problem.constant() + float(arcs.cost.sum())
    post_of = np.full(problem.n_applicants, -1, dtype=np.int64)
    post_of[arcs.a] = arcs.p
    bound = min(bound, objective)
    timed_out = sol is not None and sol.stats.status == "time-limit"
    verdict = judge(objective, bound, gap_tolerance, timed_out=timed_out)
    stats = (
        dataclasses.replace(sol.stats, status=verdict.status)
        if sol is not None
        else SolveStats(0.0, 0.0, 0, 0, bound, verdict.status)
    )
    notes = list(sol.notes) if sol is not None else []
    return AllocationSolution(post_of, arcs, objective, bound, verdict.optimal, stats, notes)


# --- pins that fail together ------------------------------------------------------------------


def conflict(
    problem: AllocationProblem,
    pins: Pins,
    time_limit: float,
    gap_tolerance: float,
    workers: int | None,
    baseline: AllocationSolution | None = None,
) -> list[Pin]:
    """A small set of ``pins`` that cannot hold together, by deletion: each pin is left out
    in turn, and stays out when the rest still fails."""
    current = pins.items
    for pin in list(current):
        trial = [p for p in current if p is not pin]
        if not any(p.action == "assign" for p in trial):
            continue  # only assign pins can fail to be honoured
        if _solve(problem, Pins.of(trial), time_limit, gap_tolerance, workers, baseline) is None:
            current = trial
    return current


def _conflict_report(pins: list[Pin]) -> Report:
    report = Report()
    together = ", ".join(p.describe() for p in pins)
    for k, pin in enumerate(pins):
        report.error(
            PINS_FILE,
            pin.line if pin.line is not None else k + 2,
            pin.action,
            "pin-conflict",
            N_("{pin}: these pins cannot hold together under the rules A1-A6: {together}"),
            pin=pin.describe(),
            together=together,
        )
    return report
