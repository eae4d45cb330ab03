"""Whether a county's staffed vehicle-days can meet its townships' targets, counting driving.

Capacity on paper (vehicle-days x clients a day) ignores that a day spent driving to far stops
serves fewer clients. :func:`target_workload` bounds from below the vehicle-days and the shift
minutes that meeting every township target of a county needs, so that "capacity allows" can be
decided honestly:

- a township meets its target most cheaply from its nearest stops, so at least
  ``X_w(t) = max(0, T_w - demand of its stops with round trip < t)`` of its target clients
  lie at stops with a round trip of at least ``t`` (``T_w = ceil(coverage_target x demand)``);
- a day whose farthest stop has round trip ``t`` drives at least ``t`` (travel times obeying
  the triangle inequality, as great-circle times do), so it serves at most
  ``min(C, (L - t - set-up) / minutes a client)`` clients;
- going from the farthest round trips to the nearest, the clients of each band need such days,
  and the room those days have left serves nearer clients: the fewest days; their driving plus
  the service of the target clients and one set-up per township are the fewest shift minutes.

``C``, ``L``, the set-up and the minutes a client are the most favourable of the county's
staffed stations and stops, round trips are from the nearest staffed station and time windows
are ignored, so the bound never rules out targets that could be met.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.routing.problem import RoutingProblem


@dataclass(frozen=True, slots=True)
class Workload:
    """Shift minutes the targets need at least, and what the staffed vehicle-days have.

    Attributes
    ----------
    need_minutes : float
        Service + one set-up per township + the least driving; ``inf`` when a target needs
        stops no vehicle-day can reach and return from within a shift.
    shift_minutes : float
        Shift minutes of all staffed vehicle-days of the county.
    need_days, days : int
        Fewest vehicle-days the targets need (by capacity and by the shift left after the
        drive) and staffed vehicle-days.
    """

    need_minutes: float
    shift_minutes: float
    need_days: int
    days: int

    @property
    def allows(self) -> bool:
        """True when neither minutes nor days rule the targets out."""
        return self.need_minutes <= self.shift_minutes and self.need_days <= self.days


def target_workload(p: RoutingProblem, county: str) -> Workload:
    """Lower bound of the work that meeting every township target of ``county`` needs."""
    st = np.flatnonzero((p.station_county == county) & (p.staffed.sum(axis=1) > 0))
    sp = np.flatnonzero(p.stop_county == county)
    n_days = p.staffed.sum(axis=1)
    days = int(n_days[st].sum())
    have = float(sum(n_days[i] * (p.shift_end[i] - p.shift_start[i]) for i in st))
    towns, goal = p.township_targets(sp)
    if not any(goal.values()):
        return Workload(0.0, have, 0, days)
    if len(st) == 0:
        return Workload(math.inf, have, days + 1, days)
    s0 = p.n_stations
    trip = np.min(p.travel[np.ix_(st, s0 + sp)] + p.travel[np.ix_(s0 + sp, st)].T, axis=0)
    rt = dict(zip(sp.tolist(), trip.tolist(), strict=True))
    cap = float(p.capacity[st].max())
    shift = float((p.shift_end[st] - p.shift_start[st]).max())
    mpc = {j: float(p.minutes_per_client[j]) for j in sp.tolist()}
    need = sum(min(float(p.setup_minutes[j]) for j in js) for w, js in towns.items() if goal[w] > 0)
    marks = sorted({0.0, *(t for t in rt.values() if math.isfinite(t))})
    # x[k]: target clients that must be served at stops with a round trip >= marks[k].
    x = []
    for k, t in enumerate(marks):
        x_total, s_total = 0, 0.0
        for w, js in towns.items():
            xw = max(0, goal[w] - sum(int(p.demand[j]) for j in js if rt[j] < t))
            if xw:
                x_total += xw
                s_total += xw * min(mpc[j] for j in js if rt[j] >= t)
        if k == 0:
            need += s_total
        x.append(x_total)
    unreachable = sum(
        max(0, goal[w] - sum(int(p.demand[j]) for j in js if math.isfinite(rt[j])))
        for w, js in towns.items()
    )
    if unreachable:
        return Workload(math.inf, have, days + 1, days)
    # A day whose farthest stop has a round trip >= marks[k] drives at least that long, so
    # it serves at most min(C, (L - marks[k] - set-up) / minutes a client) clients; the
    # clients of the farthest stops need such days, whose spare room serves nearer stops.
    setup = min(float(p.setup_minutes[j]) for j in sp.tolist())
    fastest = min(mpc.values())
    need_days, spare = 0, 0.0
    for k in range(len(marks) - 1, -1, -1):
        band = x[k] - (x[k + 1] if k + 1 < len(marks) else 0)
        room = shift - marks[k] - setup
        per_day = cap if fastest == 0 else min(cap, math.floor(room / fastest + 1e-9))
        if band > spare:
            if per_day <= 0:
                return Workload(math.inf, have, days + 1, days)
            n = math.ceil((band - spare) / per_day)
            need_days += n
            need += n * marks[k]
            spare += n * per_day
        spare -= band
    return Workload(need, have, need_days, days)


@dataclass(frozen=True, slots=True)
class PatternProof:
    """Whether the day-pattern model proves that a county cannot meet all its targets.

    Attributes
    ----------
    proven : bool
        True: no plan meets every township target of the county.
    sets : int
        Sets of far stops enumerated (0 when there were more than the limit).
    seconds : float
    note : str
        How the attempt ended, in words.
    """

    proven: bool
    sets: int
    seconds: float
    note: str


def _metric(travel: np.ndarray) -> np.ndarray:
    """Shortest travel times between nodes (Floyd-Warshall): a route's drive is at least the
    shortest tour over these, even where the matrix breaks the triangle inequality."""
    d = np.array(travel, dtype=float)
    for k in range(len(d)):
        d = np.minimum(d, d[:, k : k + 1] + d[k : k + 1, :])
    return d


def _stop_sets(
    d: np.ndarray, depot: int, stops: list[int], setup: dict[int, float], budget: float, limit: int
) -> list[tuple[tuple[int, ...], float]] | None:
    """Every set of stops whose shortest tour from ``depot`` plus one set-up each is at most
    ``budget``, with that tour; None when there are more than ``limit``.

    Grown one stop at a time keeping the shortest path to each last stop (Held-Karp); a set
    whose best path to ``j`` plus the way back is over budget is not extended through ``j``
    (any tour that passes ``j`` later is at least as long, by the shortest times)."""
    layer: dict[frozenset[int], dict[int, float]] = {
        frozenset([j]): {j: d[depot, j]}
        for j in stops
        if d[depot, j] + d[j, depot] + setup[j] <= budget + 1e-9
    }
    out: list[tuple[tuple[int, ...], float]] = []
    while layer:
        grown: dict[frozenset[int], dict[int, float]] = {}
        for s, ends in layer.items():
            out.append((tuple(sorted(s)), min(c + d[j, depot] for j, c in ends.items())))
            if len(out) > limit:
                return None
            fixed = sum(setup[j] for j in s)
            for k in stops:
                if k in s:
                    continue
                path = min(c + d[j, k] for j, c in ends.items())
                if path + d[k, depot] + fixed + setup[k] > budget + 1e-9:
                    continue
                e = grown.setdefault(s | {k}, {})
                e[k] = min(e.get(k, math.inf), path)
        layer = grown
    return out


def prove_targets_unreachable(
    p: RoutingProblem, county: str, *, max_sets: int = 20_000, seconds: float = 30.0
) -> PatternProof:
    """Try to prove that no plan meets every township target of ``county`` (a MIP of day
    patterns, solved by SCIP); see docs/routing.md, "The day-pattern proof".

    If every target were met, the staffed vehicle-days would serve at least the sum ``G`` of
    the targets, so no day could serve more than ``slack = sum of the days' capacities - G``
    clients below its capacity, and a day's drive and set-ups fit
    ``budget = L - m x (C - slack)`` (``m`` the county's fewest minutes a client). A stop is
    *far* from a station when its round trip and set-up exceed ``L - m x C``: no day that
    visits it serves a full capacity. A day is described by its far stops ``F`` (every set
    whose shortest tour and set-ups fit the budget is enumerated) and the number ``k`` of
    near stops it visits (each paying at least the least set-up); its drive is at least
    the tour of ``F``. Columns ``(F, k)``: ``n`` days (integer; a station's columns share its
    vehicle-days), ``f_j >= n`` clients of each far stop, near visits ``v_j <= n`` with
    ``sum v_j = k n``, ``v_a + v_b <= n`` for two near stops whose tour and set-ups alone
    exceed the budget, and ``v_j <= f_j <= C v_j``; ``sum f <= C n``; shift minutes
    ``sum m_j f_j + (tour + set-ups) n <= L n``. A township needs at least
    ``ceil(target / the most clients one day can serve at its stops)`` days that visit it.
    Every target must be met. Windows and visit order are left out, so every plan meeting all
    targets is a solution of the model: when SCIP proves the model infeasible, no plan meets
    them all.
    """
    from ortools.linear_solver import pywraplp  # type: ignore[attr-defined]  # SWIG, no stubs

    t0 = time.perf_counter()
    st = [
        int(i) for i in np.flatnonzero((p.station_county == county) & (p.staffed.sum(axis=1) > 0))
    ]
    sp = [int(j) for j in np.flatnonzero(p.stop_county == county)]
    towns, goal = p.township_targets(np.asarray(sp, dtype=np.int64))
    days = {i: int(p.staffed[i].sum()) for i in st}
    slack = sum(days[i] * int(p.capacity[i]) for i in st) - sum(goal.values())

    def done(proven: bool, n: int, note: str) -> PatternProof:
        return PatternProof(proven, n, time.perf_counter() - t0, note)

    if not st or slack < 0 or not any(goal.values()):
        return done(False, 0, "not needed: decided by capacity")
    model = _Patterns.of(p, st, sp, pywraplp.Solver.CreateSolver("SCIP"))
    most = dict.fromkeys(sp, 0)  # most clients one day serves at a stop
    for k, i in enumerate(st):
        stopped = _station_columns(model, k, i, days[i], slack, most, (max_sets, seconds, t0))
        if stopped is not None:
            return done(False, *stopped)
    m = model.m
    for w, js in towns.items():
        m.Add(sum(v for j in js for v in model.served[j]) >= goal[w])
        best = max(most[j] for j in js)
        if goal[w] and best >= 1:  # the days that visit the township
            m.Add(sum(v for j in js for v in model.visits[j]) >= math.ceil(goal[w] / best))
    m.SetTimeLimit(max(1, int((seconds - (time.perf_counter() - t0)) * 1000)))
    status = m.Solve()
    if status == pywraplp.Solver.INFEASIBLE:
        return done(True, model.n_sets, "proven: no day patterns meet every target")
    if status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return done(False, model.n_sets, "not proven: the day patterns meet every target")
    return done(False, model.n_sets, f"not proven in {seconds:.0f} s")


@dataclass(slots=True)
class _Patterns:
    """The day-pattern model of one county as it is built: the solver, the county's metric
    travel between its stations and stops (rows: the stations, then the stops), and each
    stop's variables of clients served and of visits."""

    p: RoutingProblem
    m: Any
    stops: list[int]
    d: np.ndarray
    at: dict[int, int]
    """Stop -> its row of ``d``."""
    stop_of: dict[int, int]
    """Row of ``d`` -> its stop."""
    setup: dict[int, float]
    """Row of ``d`` -> the stop's set-up minutes."""
    mpc: dict[int, float]
    """Stop -> its minutes a client."""
    served: dict[int, list[Any]]
    visits: dict[int, list[Any]]
    n_sets: int = 0
    columns: int = 0

    @classmethod
    def of(cls, p: RoutingProblem, st: list[int], sp: list[int], solver: Any) -> _Patterns:
        """An empty model of the stations ``st`` and stops ``sp``."""
        nodes = np.array([*st, *(p.n_stations + np.array(sp, dtype=int))], dtype=int)
        at = {j: len(st) + k for k, j in enumerate(sp)}
        return cls(
            p,
            solver,
            sp,
            _metric(p.travel[np.ix_(nodes, nodes)]),
            at,
            {r: j for j, r in at.items()},
            {at[j]: float(p.setup_minutes[j]) for j in sp},
            {j: float(p.minutes_per_client[j]) for j in sp},
            {j: [] for j in sp},
            {j: [] for j in sp},
        )


def _station_columns(
    model: _Patterns,
    k: int,
    i: int,
    days: int,
    slack: int,
    most: dict[int, int],
    limits: tuple[int, float, float],
) -> tuple[int, str] | None:
    """Add the columns of station ``i`` (row ``k`` of the metric) and its vehicle-days'
    row; update ``most``, the most clients one day serves at each stop. ``limits``: the most
    sets, the seconds and the start time; (sets, note) when one of them stops the build."""
    p, d, at, setup, mpc, sp = model.p, model.d, model.at, model.setup, model.mpc, model.stops
    max_sets, seconds, t0 = limits
    fewest = min(mpc.values())
    cap, shift = int(p.capacity[i]), float(p.shift_end[i] - p.shift_start[i])
    budget = shift - fewest * max(0, cap - slack)
    trip = {j: d[k, at[j]] + d[at[j], k] + setup[at[j]] for j in sp}
    for j in sp:
        room = (shift - trip[j]) / mpc[j] if mpc[j] else math.inf
        # a stop the station cannot reach (trip inf) fits no client, one served in no
        # time fits the capacity (neither infinity has a floor)
        fits = cap if room >= cap else math.floor(max(room, 0.0) + 1e-9)
        most[j] = max(most[j], fits)
    far = [at[j] for j in sp if trip[j] > shift - fewest * cap + 1e-9]
    near = [j for j in sp if trip[j] <= shift - fewest * cap + 1e-9]
    found = _stop_sets(d, k, far, setup, budget, max_sets - model.n_sets)
    if found is None:
        return 0, f"not tried: more than {max_sets:,} sets of far stops"
    model.n_sets += len(found)
    least = min((setup[at[j]] for j in near), default=0.0)
    clash = _clashes(model, k, near, budget)
    station_days = []
    for s, tour in [((), 0.0), *found]:
        fixed = tour + sum(setup[r] for r in s)
        for n_near in range(0 if s else 1, len(near) + 1):
            if fixed + n_near * least > budget + 1e-9:
                break
            model.columns += 1
            if model.columns > max_sets or time.perf_counter() - t0 > seconds:
                why = f"more than {max_sets:,} columns" if model.columns > max_sets else "time"
                return model.n_sets, f"not tried: {why} (building the model)"
            pattern = _Pattern(s, n_near, fixed + n_near * least)
            station_days.append(_column(model, pattern, near, clash, (cap, days, shift)))
    model.m.Add(sum(station_days) <= days)
    return None


def _clashes(model: _Patterns, k: int, near: list[int], budget: float) -> list[tuple[int, int]]:
    """Near stops that no day of station row ``k`` can visit together (their shortest tour
    and set-ups alone exceed the budget)."""
    d, at, setup = model.d, model.at, model.setup
    return [
        (a, b)
        for x, a in enumerate(near)
        for b in near[x + 1 :]
        if min(
            d[k, at[a]] + d[at[a], at[b]] + d[at[b], k],
            d[k, at[b]] + d[at[b], at[a]] + d[at[a], k],
        )
        + setup[at[a]]
        + setup[at[b]]
        > budget + 1e-9
    ]


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A column's day pattern: its far stops (rows of the metric), the near stops it visits
    and the least minutes its drive and set-ups take."""

    far: tuple[int, ...]
    n_near: int
    fixed: float


def _column(
    model: _Patterns,
    pattern: _Pattern,
    near: list[int],
    clash: list[tuple[int, int]],
    station: tuple[int, int, float],
) -> Any:
    """Add one column ``(F, k)`` of a station (``station``: its capacity, vehicle-days and
    shift minutes); its variable of days."""
    m, cap, days, shift = model.m, *station
    n = m.IntVar(0, days, "")
    f = {model.stop_of[r]: m.NumVar(0, cap * days, "") for r in pattern.far}
    for j, v in f.items():
        m.Add(v >= n)
        model.visits[j].append(n)
    if pattern.n_near:
        near_visits = {j: m.NumVar(0, days, "") for j in near}
        m.Add(sum(near_visits.values()) == pattern.n_near * n)
        for j, v in near_visits.items():
            f[j] = m.NumVar(0, cap * days, "")
            m.Add(v <= n)
            m.Add(f[j] >= v)
            m.Add(f[j] <= cap * v)
            model.visits[j].append(v)
        if pattern.n_near > 1:
            for a, b in clash:
                m.Add(near_visits[a] + near_visits[b] <= n)
    for j, v in f.items():
        model.served[j].append(v)
    m.Add(sum(f.values()) <= cap * n)
    minutes = sum(model.mpc[j] * v for j, v in f.items())
    m.Add(minutes + pattern.fixed * n <= shift * n)
    return n
