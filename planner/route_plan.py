"""Vehicle routing as a library call: :func:`route` a :class:`~planner.scenario.Scenario`'s
stations and stops into a :class:`RoutePlan` (planning model section 3).

A route plan holds the routes, visits, township coverage and unserved demand as DataFrames
(the CSVs of a plan folder), the routes as GeoJSON and the ``routing`` part of the summary;
:meth:`RoutePlan.check` re-checks shifts, windows, capacities and crews, and
:meth:`RoutePlan.write` writes the same files as ``planner route``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.backend import backend
from planner.frames import ReadOnlyFrames
from planner.i18n import LANGUAGES, N_, Text, language, speaking
from planner.issues import ScenarioError
from planner.routing.check import check_routes
from planner.routing.problem import RoutingProblem
from planner.routing.result import (
    RouteTable,
    RoutingResult,
    SubproblemStats,
    VisitTable,
    reason_texts,
)
from planner.routing.roads import road_geojson, travel_model
from planner.routing.solver import SolveOptions, solve_routing
from planner.routing.summary import (
    routes_geojson,
    routing_summary,
    routing_tables,
    unserved_table,
)
from planner.scenario import RoadSettings, Scenario
from planner.summaries import RoutingSummary, freeze, thaw
from planner.violation import Violation


@dataclass(frozen=True, slots=True)
class RoutingParams:
    """How to route.

    Attributes
    ----------
    time_limit : float
        Wall seconds for the whole solve (every county).
    seed : int
        Same seed, same routes.
    workers : int or None
        Processes for the counties; ``None``: one per core.
    proof_seconds : float
        Time for the day-pattern proof of a county whose routes miss a township that the
        workload bound allows (within what is left of ``time_limit``; 0: no proofs).
    roads : str or Path or None
        A road graph folder (``planner roads build``): travel times from its roads, each
        county's computed in its own task. ``None``: the scenario's ``[routing] roads`` if it
        has one, else the great-circle model and ``travel_times.csv``.
    """

    time_limit: float = 60.0
    seed: int = 0
    workers: int | None = None
    proof_seconds: float = 30.0
    roads: str | Path | None = None


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """The vehicle routes of a campaign and what they serve.

    Attributes
    ----------
    scenario : Scenario
    problem : RoutingProblem
    result : RoutingResult
        The solver's result (indices into ``problem``).
    tables : ReadOnlyFrames
        ``routes``, ``visits``, ``coverage`` and ``unserved``: the CSVs of the plan folder (each
        access gives a copy: routes are a value).
    geojson : Mapping
        ``routes.geojson``: one LineString per vehicle-day (read-only: mappings and tuples).
    summary : RoutingSummary
        The ``routing`` part of ``summary.json``, typed.
    language : str
        The language of the reasons in ``unserved`` and the summary: the language of the
        moment when the routes were made; :meth:`write` writes them in the language of the
        moment when it writes.
    """

    scenario: Scenario
    problem: RoutingProblem
    result: RoutingResult
    tables: ReadOnlyFrames
    geojson: Mapping[str, Any]
    summary: RoutingSummary
    language: str = "en"

    @property
    def routes(self) -> pd.DataFrame:
        """One row per vehicle-day: stops in order, times, clients (``routes.csv``)."""
        return self.tables["routes"]

    @property
    def visits(self) -> pd.DataFrame:
        """One row per stop visit (``visits.csv``)."""
        return self.tables["visits"]

    @property
    def coverage(self) -> pd.DataFrame:
        """Per township: demand, served, target, met, and why the rest is left
        (``coverage.csv``)."""
        return self.tables["coverage"]

    @property
    def unserved(self) -> pd.DataFrame:
        """Every stop with unserved demand and the reason (``unserved.csv``)."""
        return self.tables["unserved"]

    def check(self) -> list[Violation]:
        """Re-check the routes against the problem, rules R1-R9 of
        :mod:`planner.routing.check` (shifts, windows, daily capacity, crews, vehicles per day,
        served demand, times against the travel matrix, counties, the reasons of what is left);
        an empty list for valid routes."""
        return check_routes(self.problem, self.result)

    def write(self, folder: str | Path) -> Path:
        """Write the routing files into a plan folder (merging ``summary.json``), as
        ``planner route`` does, the reasons in the language of the moment; returns the
        folder."""
        return backend().write_routes(self._in_language(), Path(folder))

    def _in_language(self) -> RoutePlan:
        """The routes with their reasons in the language of the moment."""
        lang = language()
        if lang == self.language:
            return self
        tables = ReadOnlyFrames(
            {**self.tables, "unserved": unserved_table(self.problem, self.result)}
        )
        summary = dataclasses.replace(self.summary, reasons=freeze(reason_texts()))
        return dataclasses.replace(self, tables=tables, summary=summary, language=lang)

    @classmethod
    def from_files(
        cls,
        scenario: Scenario,
        crews: Mapping[str, int] | None,
        files: Mapping[str, pd.DataFrame],
        geojson: Mapping[str, Any],
        summary: RoutingSummary,
    ) -> RoutePlan:
        """The routes that wrote a plan folder's routing files, rebuilt from the scenario, the
        crews they were made with, the files (text frames: ``routes``, ``visits``,
        ``coverage``, ``unserved``), ``routes.geojson`` and the routing summary; the I/O
        layer's ``read_routes`` reads them (:func:`planner.read_routes`). Times are the files'
        whole minutes.

        Raises
        ------
        ValueError
            When the files are not what the scenario and the visits give.
        """
        problem = RoutingProblem.from_scenario(
            scenario.data, crews=dict(crews) if crews is not None else None
        )
        result = _result_of(problem, files, summary)
        ours = thaw(freeze(routes_geojson(problem, result)))
        tables: dict[str, pd.DataFrame] = {}
        for lang in (language(), *LANGUAGES):
            with speaking(lang):
                tables = routing_tables(problem, result)
            if all(_same_csv(tables[n], f) for n, f in files.items()) and ours == thaw(geojson):
                return cls(
                    scenario, problem, result, ReadOnlyFrames(tables), freeze(ours), summary, lang
                )
        differ = sorted(n for n, f in files.items() if not _same_csv(tables[n], f))
        raise ValueError(
            f"the plan folder's {', '.join(differ) or 'routes.geojson'} differ from what "
            f"scenario {scenario.name!r} and its visits give: not this scenario's routes, or "
            "changed"
        )

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"<RoutePlan of {self.scenario.name!r}: {s.routes:,} routes, "
            f"{s.served:,} of {s.demand:,} clients served, townships at target "
            f"{s.townships_met} / {s.townships}>"
        )


def _minutes(clock: pd.Series) -> np.ndarray:
    """``HH:MM`` as minutes after midnight."""
    parts = clock.str.split(":", expand=True) if len(clock) else None
    if parts is None:
        return np.zeros(0, dtype=np.float64)
    return (parts[0].astype(np.int64) * 60 + parts[1].astype(np.int64)).to_numpy(np.float64)


def _result_of(
    p: RoutingProblem, files: Mapping[str, pd.DataFrame], summary: RoutingSummary
) -> RoutingResult:
    """The routing result of a plan folder's ``routes``, ``visits`` and ``unserved`` files."""
    routes, visits, unserved = files["routes"], files["visits"], files["unserved"]
    station = {str(s): i for i, s in enumerate(p.station_id)}
    stop = {str(s): i for i, s in enumerate(p.stop_id)}
    route = {r: i for i, r in enumerate(routes["route_id"])}
    try:
        ro = RouteTable(
            station=np.array([station[s] for s in routes["station_id"]], dtype=np.int64),
            day=routes["day"].astype(np.int64).to_numpy() - 1,
            vehicle=routes["vehicle"].astype(np.int64).to_numpy() - 1,
            depart=_minutes(routes["depart"]),
            back=_minutes(routes["return"]),
            travel=routes["travel_minutes"].astype(np.float64).to_numpy(),
            clients=routes["clients"].astype(np.int64).to_numpy(),
        )
        at = np.array([stop[s] for s in visits["stop_id"]], dtype=np.int64)
        vi = VisitTable(
            route=np.array([route[r] for r in visits["route_id"]], dtype=np.int64),
            order=visits["order"].astype(np.int64).to_numpy(),
            stop=at,
            arrive=_minutes(visits["arrive"]),
            start=_minutes(visits["start"]),
            depart=_minutes(visits["depart"]),
            clients=visits["clients"].astype(np.int64).to_numpy(),
        )
        short = np.array([stop[s] for s in unserved["stop_id"]], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"the routing files name {exc}, which the scenario lacks") from None
    served = np.bincount(at, weights=vi.clients, minlength=p.n_stops).astype(np.int64)
    reason = np.full(p.n_stops, "", dtype=object)
    reason[short] = unserved["reason_code"].to_numpy(str)
    counties = {c.county_code: c for c in summary.counties}
    subproblems = tuple(
        SubproblemStats(
            county=s.county_code,
            stations=int(np.sum(p.station_county == s.county_code)),
            stops=int(np.sum(p.stop_county == s.county_code)),
            vehicle_days=s.vehicle_days,
            nodes=s.visit_nodes,
            status=s.status,
            seconds=s.seconds,
            townships_met=counties[s.county_code].townships_met,
            proof=counties[s.county_code].pattern_proof or "",
            unreachable=counties[s.county_code].targets_proven_unreachable,
        )
        for s in summary.subproblems
    )
    return RoutingResult(
        routes=ro,
        visits=vi,
        served=served,
        reason=reason.astype(str),
        travel_minutes=summary.travel_minutes,
        subproblems=subproblems,
        seconds=summary.seconds,
    )


def _same_csv(ours: pd.DataFrame, text: pd.DataFrame) -> bool:
    """Whether a table writes the CSV that was read as ``text`` (every cell a string)."""
    return bool(ours.to_csv(index=False) == text.to_csv(index=False))


def route(
    scenario: Scenario,
    crews: Mapping[str, int] | None = None,
    params: RoutingParams | None = None,
    crews_source: str | None = None,
) -> RoutePlan:
    """Route the service vehicles of a scenario's stations to its stops.

    Parameters
    ----------
    scenario
        A valid scenario with stations and stops.
    crews
        Volunteers crewing each station's vehicles, by station id (e.g. :meth:`Plan.crews`);
        a station missing from it has no crew. ``None``: every declared vehicle is staffed.
    params
        Time limit, seed, processes.
    crews_source
        How the summary names where the crews came from (default ``declared`` without
        ``crews``, ``given`` with them).

    Raises
    ------
    ScenarioError
        When the scenario has errors or no routing tables.
    """
    params = params or RoutingParams()
    data = scenario.data
    if not data.has_routing_tables:
        raise ScenarioError(
            scenario.report, Text(N_("the scenario has no routing tables (stations, stops)"))
        )
    t0 = time.perf_counter()
    roads = _road_settings(data.roads, params.roads)
    problem = RoutingProblem.from_scenario(data, crews=dict(crews) if crews is not None else None)
    options = SolveOptions(
        time_limit=params.time_limit,
        seed=params.seed,
        workers=params.workers,
        proof_seconds=params.proof_seconds,
        roads=roads,
    )
    result = solve_routing(problem, options)
    if result.travel is not None:  # the road minutes the routes were made with
        problem = dataclasses.replace(problem, travel=result.travel)
    tables = routing_tables(problem, result)
    run = {
        "time_limit": params.time_limit,
        "seed": params.seed,
        "crews": crews_source or ("declared" if crews is None else "given"),
        "travel_model": travel_model(data, problem, result, roads),
        "total_seconds": round(time.perf_counter() - t0, 3),
    }
    summary = routing_summary(problem, result, tables["coverage"], run)
    geojson = routes_geojson(problem, result)
    if roads is not None:
        geojson = road_geojson(geojson, problem, roads)
    return RoutePlan(
        scenario, problem, result, ReadOnlyFrames(tables), freeze(geojson), summary, language()
    )


def _road_settings(scenario: RoadSettings | None, given: str | Path | None) -> RoadSettings | None:
    """The roads to route on: ``RoutingParams.roads`` (with the scenario's speeds and snap
    limit, if it names roads too), else the scenario's ``[routing] roads``."""
    if given is None:
        return scenario
    path = str(Path(given).resolve())
    if scenario is None:
        return RoadSettings(path)
    return dataclasses.replace(scenario, path=path)
