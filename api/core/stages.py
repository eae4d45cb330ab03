"""The one stage runner: validate -> allocate -> route -> map, into a plan folder.

``planner demo``, ``planner plan``, ``planner route`` and the HTTP service's job worker all run
a scenario through :func:`run_stages`; they differ only in the :class:`StageOptions` they pass
(which stages, time limits, where the vehicles' crews come from). A stage runs when it is asked
for and the scenario has its tables: the allocation needs posts and applicants, the routing
stations and stops, and the map a plan folder with something to draw.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import planner
from geodata.planfolder import write_sweep
from planner import i18n
from planner.i18n import N_
from planner.issues import ScenarioError
from planner.pins import Pins
from planner.plan import AllocationParams, Plan
from planner.route_plan import RoutePlan, RoutingParams
from planner.sweep import Sweep, Vary, sweep
from planner.workers import start as start_workers

log = logging.getLogger(__name__)

STAGES = ("allocation", "routing", "map")
"""The stages, in the order they run."""

Crews = Literal["plan", "declared"] | Path
"""Who crews the vehicles: ``plan`` (this run's plan where the allocation ran, else every
declared vehicle), ``declared`` (every declared vehicle), or an earlier plan folder."""

OnStage = Callable[[str, float], None]
"""Called with (stage, progress percent) when a stage starts."""


@dataclass(frozen=True, slots=True)
class StageOptions:
    """What to run and how.

    Attributes
    ----------
    stages
        The stages asked for; those whose tables the scenario lacks are skipped.
    allocation, routing
        Solver parameters of the two solving stages.
    crews
        Where the vehicles' crews come from (:data:`Crews`).
    previous
        An earlier plan folder: the allocation re-plans from it (objective term 6).
    pins
        The office's decisions (``pins.csv``): the allocation is the optimum under them, and
        the plan folder records them and their price against ``baseline``.
    baseline
        The plan folder the pins were set on; without it, the plan without the pins is
        solved first, to price them.
    language
        The language the user asked for (see the attribute).
    """

    stages: tuple[str, ...] = STAGES
    allocation: AllocationParams = field(default_factory=AllocationParams)
    routing: RoutingParams = field(default_factory=RoutingParams)
    crews: Crews = "plan"
    previous: Path | None = None
    pins: Pins | None = None
    baseline: Path | None = None
    language: str | None = None
    """The language of the written files when the user said it (``--lang``); else
    ``PLANNER_LANG``, else the scenario's ``language``, else the language of the moment."""


@dataclass(frozen=True, slots=True)
class StageOutcome:
    """What a run made: the folder, the results of the stages that ran, and the map."""

    scenario: planner.Scenario
    out: Path
    plan: Plan | None
    routes: RoutePlan | None
    map: Path | None
    language: str
    """The language the files were written in."""

    @property
    def solved(self) -> list[str]:
        """The solving stages that ran (``allocation``, ``routing``), as a plan lists them."""
        done = [("allocation", self.plan), ("routing", self.routes)]
        return [name for name, result in done if result is not None]


def _quiet(stage: str, progress: float) -> None:
    log.info("stage %s (%.0f%%)", stage, progress)


def run_stages(
    source: str | Path | planner.Scenario,
    out: Path,
    options: StageOptions | None = None,
    on_stage: OnStage = _quiet,
) -> StageOutcome:
    """Run the stages a scenario has into the plan folder ``out``.

    Parameters
    ----------
    source
        A scenario folder, ``.zip`` or ``builtin:NAME``, or a scenario already read.
    out
        The plan folder (created).
    options
        Which stages and how (default: every stage, crews from the plan).
    on_stage
        Called with (stage, progress percent) as each stage starts.

    Raises
    ------
    ScenarioError
        When the scenario has errors, or none of the tables the stages asked for need.
    FileNotFoundError, ValueError
        When ``options.crews`` or ``options.previous`` names a folder that is not a plan.
    """
    options = options or StageOptions()
    start_workers()  # the solvers' worker processes load while the scenario is read
    on_stage("validation", 2.0)
    scenario = source if isinstance(source, planner.Scenario) else planner.read_scenario(source)
    data = scenario.data  # raises with the report when the scenario has errors
    allocation = "allocation" in options.stages and data.has_allocation_tables
    routing = "routing" in options.stages and data.has_routing_tables
    if not (allocation or routing):
        raise ScenarioError(scenario.report, _nothing_to_solve(options.stages))
    previous = planner.read_previous(options.previous) if options.previous else None
    language = _language(options.language, data.language)
    with i18n.speaking(language):
        plan, routes, page = _stages(
            scenario, out, options, allocation, routing, previous, on_stage
        )
    return StageOutcome(scenario, out, plan, routes, page, language)


def _language(asked: str | None, scenario: str | None) -> str:
    """The language of the written files (:func:`planner.i18n.choose_written`)."""
    return i18n.choose_written(asked, scenario)


def _allocate(
    scenario: planner.Scenario, options: StageOptions, previous: planner.PreviousPlan | None
) -> Plan:
    """The allocation stage: the plan, or with pins the plan under them, priced against the
    baseline folder (else against the plan without them, solved first)."""
    if not options.pins:
        return planner.allocate(scenario, options.allocation, previous=previous)
    if options.baseline is not None:
        base = planner.read_plan(options.baseline, scenario)
    else:
        base = planner.allocate(scenario, options.allocation, previous=previous)
    return planner.allocate(
        scenario, options.allocation, previous=previous, pins=options.pins, baseline=base
    )


def _stages(
    scenario: planner.Scenario,
    out: Path,
    options: StageOptions,
    allocation: bool,
    routing: bool,
    previous: planner.PreviousPlan | None,
    on_stage: OnStage,
) -> tuple[Plan | None, RoutePlan | None, Path | None]:
    """The solving stages and the map, in the language of the moment."""
    out.mkdir(parents=True, exist_ok=True)
    plan = routes = None
    if allocation:
        on_stage("allocation", 10.0)
        plan = _allocate(scenario, options, previous)
        plan.write(out)
    if routing:
        on_stage("routing", 50.0 if allocation else 10.0)
        crews, label = _crews(options.crews, plan, scenario)
        routes = planner.route(scenario, crews, options.routing, crews_source=label)
        routes.write(out)
    page = None
    if "map" in options.stages:
        on_stage("map", 90.0)
        page = _draw_map(out)
    return plan, routes, page


def _nothing_to_solve(stages: tuple[str, ...]) -> str:
    """Why nothing can be solved (a template of the catalogue: ScenarioError's message)."""
    if "allocation" in stages and "routing" not in stages:
        return N_("the scenario has no allocation tables (posts, applicants)")
    if "routing" in stages and "allocation" not in stages:
        return N_("the scenario has no routing tables (stations, stops)")
    return N_("the scenario has neither posts and applicants nor stations and stops")


def _crews(
    crews: Crews, plan: Plan | None, scenario: planner.Scenario
) -> tuple[dict[str, int] | None, str]:
    """The crews of the stations and how the summary names their source."""
    if isinstance(crews, Path):
        from geodata.planfolder import read_crews

        stations = scenario.data.stations
        assert stations is not None
        return read_crews(crews, stations), f"plan {crews}"
    if crews == "plan" and plan is not None:
        return plan.crews(), "plan"
    return None, "declared"


def _draw_map(out: Path) -> Path | None:
    """The plan folder's map; a missing map leaves the plan standing (the reason is logged)."""
    from maps import MapInputError, write_map
    from maps.offline import AssetsMissing

    try:
        return write_map(out)
    except (MapInputError, AssetsMissing) as exc:
        log.error("no map: %s", exc)
        return None


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    """What a sweep made: the folder, the sweep and its page."""

    out: Path
    sweep: Sweep
    page: Path | None
    language: str
    """The language the page was written in."""


def run_sweep(
    source: str | Path | planner.Scenario,
    axes: Sequence[Vary],
    out: Path,
    params: AllocationParams | None = None,
    on_stage: OnStage = _quiet,
    language: str | None = None,
) -> SweepOutcome:
    """Plan a scenario and every variant of ``axes`` (:func:`planner.sweep.sweep`) into the
    folder ``out``: ``sweep.csv`` (one row per plan, the base first), ``sweep_counties.csv``
    (per variant and county, the volunteers placed in the base and in the variant),
    ``sweep.json`` (what was swept) and ``sweep.html`` (:mod:`maps.sweep`).

    ``language`` is the page's when the user said it (as :attr:`StageOptions.language`);
    else ``PLANNER_LANG``, else the scenario's ``language``, else the language of the moment.

    Raises
    ------
    ScenarioError
        When the scenario has errors or no allocation tables.
    planner.sweep.VaryError
        When a key is varied twice or names a province the scenario lacks.
    """
    params = params or AllocationParams()
    start_workers()
    on_stage("validation", 2.0)
    scenario = source if isinstance(source, planner.Scenario) else planner.read_scenario(source)
    data = scenario.data  # raises with the report when the scenario has errors
    if not data.has_allocation_tables:
        raise ScenarioError(scenario.report, _nothing_to_solve(("allocation",)))
    on_stage("sweep", 10.0)
    result = sweep(scenario, axes, params)
    meta = {
        "scenario": scenario.name,
        "source": scenario.source,
        "synthetic": data.synthetic,
        "vary": [{"key": a.key, "values": list(a.values)} for a in axes],
        "variants": len(result.changes) - 1,
        "time_limit": params.time_limit,
        "gap_tolerance": params.gap_tolerance,
        "seconds": round(result.seconds, 3),
        "counties": sorted({str(c) for c in data.quotas.county_code}) if data.quotas else [],
    }
    write_sweep(result, meta, out)
    on_stage("map", 90.0)
    language = _language(language, data.language)
    with i18n.speaking(language):
        page = _draw_sweep(out)
    return SweepOutcome(out, result, page, language)


def _draw_sweep(out: Path) -> Path | None:
    """The sweep folder's page; a missing page leaves the table standing (the reason is
    logged)."""
    from maps import MapInputError
    from maps.offline import AssetsMissing
    from maps.sweep import write_sweep_page

    try:
        return write_sweep_page(out)
    except (MapInputError, AssetsMissing) as exc:
        log.error("no sweep page: %s", exc)
        return None
