"""The library's I/O backend (:class:`planner.backend.Backend`), registered in
``pyproject.toml`` under the entry-point group ``westplan.io``: scenarios read and validated by
:mod:`geodata.scenario`, plan folders written and read by :mod:`geodata.planfolder`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from geodata import planfolder
from geodata.scenario import load_scenario, scenario_from_frames

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from planner.plan import Plan
    from planner.route_plan import RoutePlan
    from planner.routing.roads import RoadTravel
    from planner.scenario import PreviousPlan, RoadSettings, Scenario


class GeodataBackend:
    """Files, zips, the built-in data and DataFrames in; plan folders out."""

    def read_scenario(self, source: str | Path) -> Scenario:
        return load_scenario(source)

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
        return scenario_from_frames(
            tables,
            counties=counties,
            townships=townships,
            name=name,
            year=year,
            crs=crs,
            settings=settings,
        )

    def read_previous(self, folder: Path) -> PreviousPlan:
        return planfolder.read_previous(folder)

    def read_plan(self, folder: Path, scenario: Scenario | None) -> Plan:
        return planfolder.read_plan(folder, scenario)

    def read_routes(
        self, folder: Path, scenario: Scenario | None, crews: Mapping[str, int] | None
    ) -> RoutePlan:
        return planfolder.read_routes(folder, scenario, crews)

    def write_plan(self, plan: Plan, folder: Path) -> Path:
        return planfolder.write_plan(plan, folder)

    def write_routes(self, routes: RoutePlan, folder: Path) -> Path:
        return planfolder.write_routes(routes, folder)

    def road_travel(self, roads: RoadSettings, lon: Any, lat: Any) -> RoadTravel:
        from geodata.roads.matrix import road_matrix
        from geodata.roads.speeds import Speeds
        from planner.routing.roads import RoadTravel

        m = road_matrix(
            Path(roads.path),
            lon,
            lat,
            Speeds.with_overrides(dict(roads.speeds)),
            snap_limit_m=roads.snap_limit_m,
        )
        snap = np.where(m.snap.segment >= 0, m.snap.meters, np.inf)
        return RoadTravel(m.seconds / 60.0, m.meters, snap, m.edges, m.tiles, m.bytes_read)

    def road_paths(
        self, roads: RoadSettings, lon: Any, lat: Any, legs: list[tuple[int, int]]
    ) -> list[list[tuple[float, float]] | None]:
        from geodata.roads.graph import read_graph
        from geodata.roads.matrix import points_box, road_paths
        from geodata.roads.speeds import Speeds

        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        graph = read_graph(
            Path(roads.path), points_box(lon, lat), Speeds.with_overrides(dict(roads.speeds))
        )
        return road_paths(graph, lon, lat, legs, roads.snap_limit_m)

    def road_manifest(self, roads: RoadSettings) -> dict[str, Any]:
        from geodata.roads.graph import read_manifest

        return read_manifest(Path(roads.path))
