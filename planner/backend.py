"""The I/O backend: how the library reads scenarios and writes plan folders.

``planner/`` holds the planning model and its solvers; it reads no file and draws no map.
Reading a scenario (a folder, a ``.zip``, the built-in data, or DataFrames with a geography),
validating it against the data contract, and writing a plan folder are the I/O layer's work.
The I/O layer implements :class:`Backend` and registers it under the entry-point group
:data:`GROUP` in its package metadata (``pyproject.toml``), and the library finds it there,
the way xarray finds its file backends: the dependency points from the I/O layer to the core,
never back. In this distribution the backend is ``geodata.backend:GeodataBackend``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from planner.plan import Plan
    from planner.route_plan import RoutePlan
    from planner.routing.roads import RoadTravel
    from planner.scenario import PreviousPlan, RoadSettings, Scenario

GROUP = "westplan.io"
"""Entry-point group of the I/O backends."""


class Backend(Protocol):
    """What the library asks of its I/O layer."""

    def read_scenario(self, source: str | Path) -> Scenario:
        """A scenario folder, ``.zip`` or ``builtin:NAME``, validated (never raises on bad
        input: the problems are in the scenario's report)."""
        ...

    def scenario_from_frames(
        self,
        tables: Mapping[str, pd.DataFrame],
        *,
        counties: gpd.GeoDataFrame | None,
        townships: gpd.GeoDataFrame | None,
        name: str,
        year: int,
        crs: str,
        settings: Mapping[str, Mapping[str, Any]],
    ) -> Scenario:
        """A scenario from DataFrames keyed by the tables' ``[files]`` names, validated."""
        ...

    def read_previous(self, folder: Path) -> PreviousPlan:
        """The assignments of an earlier plan folder, as a previous plan."""
        ...

    def read_plan(self, folder: Path, scenario: Scenario | None) -> Plan:
        """The plan that wrote a plan folder (its scenario: ``scenario``, else the one its
        summary names)."""
        ...

    def read_routes(
        self, folder: Path, scenario: Scenario | None, crews: Mapping[str, int] | None
    ) -> RoutePlan:
        """The routes that wrote a plan folder's routing files."""
        ...

    def write_plan(self, plan: Plan, folder: Path) -> Path:
        """Write a plan folder (the CSVs, summary.json and plan.xlsx) and return it."""
        ...

    def write_routes(self, routes: RoutePlan, folder: Path) -> Path:
        """Write the routing files into a plan folder (merging its summary.json)."""
        ...

    def road_travel(self, roads: RoadSettings, lon: Any, lat: Any) -> RoadTravel:
        """Drive minutes between points (WGS-84) over the part of a road graph folder around
        them; ``inf`` where there is no path."""
        ...

    def road_paths(
        self, roads: RoadSettings, lon: Any, lat: Any, legs: list[tuple[int, int]]
    ) -> list[list[tuple[float, float]] | None]:
        """The fastest road path of each leg ``(i, j)`` between points, as (lon, lat)
        vertices; ``None`` without a path."""
        ...

    def road_manifest(self, roads: RoadSettings) -> dict[str, Any]:
        """The manifest of a road graph folder (the extract, its hash, the counts)."""
        ...


class BackendMissing(RuntimeError):
    """No I/O backend is installed."""


@functools.cache
def backend() -> Backend:
    """The installed I/O backend (the first registered under :data:`GROUP`).

    Raises
    ------
    BackendMissing
        When no package registers one (the ``westplan`` distribution does: reinstall it).
    """
    found = sorted(entry_points(group=GROUP), key=lambda ep: ep.name)
    if not found:
        raise BackendMissing(
            f"no I/O backend is registered under the entry-point group {GROUP!r}; "
            "reading scenarios and writing plans needs the westplan distribution installed "
            "(pip install -e .)"
        )
    loaded: Backend = found[0].load()()
    return loaded
