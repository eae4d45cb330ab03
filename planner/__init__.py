"""The Western Plan service-network planner (大学生志愿服务西部计划) as a library.

Read or build a scenario, validate it, place volunteers on posts (certified optimal), route
the service vehicles, and write the same plan folder as the command line::

    import planner

    sc = planner.read_scenario("builtin:huaihua-screening")   # or Scenario.from_frames(...)
    sc.report.raise_for_errors()
    plan = planner.allocate(sc, planner.AllocationParams(time_limit=60))
    plan.objective, plan.bound, plan.gap, plan.status, plan.terms
    plan.assignments, plan.unassigned, plan.seats, plan.fairness   # DataFrames
    plan.check()                                                    # [] for a valid plan
    routes = planner.route(sc, crews=plan.crews(), params=planner.RoutingParams(seed=0))
    routes.routes, routes.visits, routes.coverage, routes.unserved, routes.check()
    plan.write("out/"); routes.write("out/")

The core (``planner.allocation``, ``planner.routing``, ``planner.scenario``) is numpy,
pandas, SciPy, numba and OR-Tools; it imports nothing from ``geodata``, ``maps`` or ``api``.
Reading files and writing plan folders go through the I/O backend (:mod:`planner.backend`).
See ``docs/library.md`` for a session end to end and ``docs/architecture.md`` for the layers.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from planner.backend import backend
from planner.issues import Issue, Report, ScenarioError, Severity
from planner.pins import PinError, Pins
from planner.scenario import PreviousPlan, Rules, Scenario, ScenarioData, Weights
from planner.violation import Violation

if TYPE_CHECKING:
    from planner.plan import AllocationParams, Plan, allocate
    from planner.route_plan import RoutePlan, RoutingParams, route

_SOLVERS = {
    "AllocationParams": "planner.plan",
    "Plan": "planner.plan",
    "allocate": "planner.plan",
    "RoutePlan": "planner.route_plan",
    "RoutingParams": "planner.route_plan",
    "route": "planner.route_plan",
}
"""Names whose modules load the solvers (OR-Tools, SciPy): imported on first use, so that
``import planner.scenario`` (which the I/O layer does) stays light."""


def __getattr__(name: str) -> Any:
    module = _SOLVERS.get(name)
    if module is None:
        raise AttributeError(f"module 'planner' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def read_scenario(source: str | Path) -> Scenario:
    """Read and validate a scenario: a folder with ``scenario.toml``, a ``.zip`` of one, or
    ``builtin:NAME`` (``western-2006``, ``huaihua-screening``, ``tier-county`` ...).

    Never raises on bad input: the problems are in ``.report`` (the same report as
    ``planner validate``), and the solvers refuse a scenario with errors.
    """
    return backend().read_scenario(source)


def read_plan(folder: str | Path, scenario: Scenario | None = None) -> Plan:
    """The :class:`Plan` that wrote a plan folder (``planner plan``, :meth:`Plan.write`): its
    tables, summary, solution and report, so that ``check()``, ``crews()`` and ``write()``
    work as on the plan itself.

    ``scenario`` is the scenario it was planned for; default: the one its ``summary.json``
    names (a folder, ``.zip`` or ``builtin:NAME``; a scenario built from DataFrames has no
    such name, so pass it).

    Raises
    ------
    FileNotFoundError
        When the folder has no plan.
    ValueError
        When the folder's files are not what the scenario and its assignments give.
    """
    return backend().read_plan(Path(folder), scenario)


def read_routes(
    folder: str | Path,
    scenario: Scenario | None = None,
    crews: Mapping[str, int] | None = None,
) -> RoutePlan:
    """The :class:`RoutePlan` that wrote a plan folder's routing files (``planner route``,
    :meth:`RoutePlan.write`), with its scenario as for :func:`read_plan`; ``crews`` only when
    the routes were made with crews given by hand (``summary.json`` says ``"crews":
    "given"``). Times are those of the files, whole minutes, so ``check()`` of read routes
    may report R7 (times against the travel matrix) for fractions of a minute.

    Raises
    ------
    FileNotFoundError
        When the folder has no routes.
    ValueError
        When the folder's files are not what the scenario and its visits give.
    """
    return backend().read_routes(Path(folder), scenario, crews)


def read_previous(folder: str | Path) -> PreviousPlan:
    """The assignments of an earlier plan folder, to re-plan from (``allocate(previous=)``)."""
    return backend().read_previous(Path(folder))


__all__ = [
    "AllocationParams",
    "Issue",
    "PinError",
    "Pins",
    "Plan",
    "PreviousPlan",
    "Report",
    "RoutePlan",
    "RoutingParams",
    "Rules",
    "Scenario",
    "ScenarioData",
    "ScenarioError",
    "Severity",
    "Violation",
    "Weights",
    "__version__",
    "allocate",
    "read_plan",
    "read_previous",
    "read_routes",
    "read_scenario",
    "route",
]
