"""Travel times from roads: a county's matrix between its stations and stops, built inside the
county's task from the part of a road graph folder around its points (the I/O backend reads
the graph: :meth:`planner.backend.Backend.road_travel`), and the road path of each leg for
the outputs.

The routing model itself is unchanged: the road minutes replace the county's block of
:attr:`RoutingProblem.travel` (``inf`` where a point has no road path), so the checker, the
workload bound and the proofs see the same matrix as the search.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.backend import backend
from planner.routing.problem import RoutingProblem
from planner.routing.result import RoutingResult
from planner.scenario import RoadSettings, ScenarioData


@dataclass(frozen=True, slots=True)
class RoadTravel:
    """Drive times between some points over the roads.

    Attributes
    ----------
    minutes, meters : ndarray of float, shape (P, P)
        ``inf`` where there is no path (a point off the network included).
    snap_m : ndarray of float, shape (P,)
        Each point's distance to the road it joins (``inf``: farther than the limit).
    edges : int
        Road segments read for these points (the part of the graph around them).
    tiles : tuple of str
        The graph folder's edge tiles read (file names), all of them near these points.
    bytes_read : int
        Their size on disk.
    """

    minutes: np.ndarray
    meters: np.ndarray
    snap_m: np.ndarray
    edges: int
    tiles: tuple[str, ...] = ()
    bytes_read: int = 0


def county_on_roads(p: RoutingProblem, roads: RoadSettings) -> tuple[RoutingProblem, RoadTravel]:
    """A one-county problem with its travel minutes from the roads (in the county's task)."""
    travel = backend().road_travel(roads, np.asarray(p.lon), np.asarray(p.lat))
    minutes = np.array(travel.minutes, dtype=float, copy=True)
    minutes.flags.writeable = False
    return dataclasses.replace(p, travel=minutes), travel


def road_geojson(geojson: dict[str, Any], p: RoutingProblem, roads: RoadSettings) -> dict[str, Any]:
    """``routes.geojson`` with each vehicle-day's line along its road paths (a leg without a
    path, which no route takes, stays straight), read county by county; as the line no
    longer has one vertex per stop, each stop says where it is (``lon``, ``lat``) and the
    feature that it runs ``along`` the roads."""
    features = geojson["features"]
    by_station = {str(s): i for i, s in enumerate(p.station_id.tolist())}
    by_stop = {str(s): p.n_stations + j for j, s in enumerate(p.stop_id.tolist())}
    legs_of: dict[str, list[tuple[int, int, int, int]]] = {}
    for f_index, feature in enumerate(features):
        props = feature["properties"]
        s = by_station[props["station_id"]]
        nodes = [s, *(by_stop[v["stop_id"]] for v in props["stops"]), s]
        county = str(p.station_county[s])
        for k in range(len(nodes) - 1):
            legs_of.setdefault(county, []).append((f_index, k, nodes[k], nodes[k + 1]))
    paths: dict[tuple[int, int], list[list[float]]] = {}
    for legs in legs_of.values():
        nodes = sorted({n for _, _, a, b in legs for n in (a, b)})
        local = {n: i for i, n in enumerate(nodes)}
        found = backend().road_paths(
            roads,
            np.asarray(p.lon)[nodes],
            np.asarray(p.lat)[nodes],
            [(local[a], local[b]) for _, _, a, b in legs],
        )
        for (f_index, k, a, b), path in zip(legs, found, strict=True):
            straight = [[float(p.lon[a]), float(p.lat[a])], [float(p.lon[b]), float(p.lat[b])]]
            paths[f_index, k] = [list(xy) for xy in path] if path else straight
    out = []
    for f_index, feature in enumerate(features):
        n_legs = len(feature["properties"]["stops"]) + 1
        coords: list[list[float]] = []
        for k in range(n_legs):
            leg = paths[f_index, k]
            coords.extend(leg if not coords else leg[1:])
        geometry = {**feature["geometry"], "coordinates": coords}
        props = feature["properties"]
        stops = [
            {
                **v,
                "lon": float(p.lon[by_stop[v["stop_id"]]]),
                "lat": float(p.lat[by_stop[v["stop_id"]]]),
            }
            for v in props["stops"]
        ]
        out.append(
            {
                **feature,
                "geometry": geometry,
                "properties": {**props, "stops": stops, "along": "roads"},
            }
        )
    return {**geojson, "features": out}


def travel_model(
    scenario: ScenarioData,
    p: RoutingProblem,
    result: RoutingResult,
    roads: RoadSettings | None,
) -> dict[str, Any]:
    """``summary.json``'s ``travel_model``: which travel times the routes were made with."""
    if roads is None:
        return {
            "kind": "great_circle",
            "circuity": scenario.rules.circuity,
            "speed_kmh": scenario.rules.speed_kmh,
            "travel_times_csv": scenario.travel_times is not None,
        }
    manifest = backend().road_manifest(roads)
    snap = np.asarray(result.snap_m) if result.snap_m is not None else np.zeros(0)
    ids = np.concatenate([p.station_id, p.stop_id]).astype(str)
    counted = np.isfinite(snap)
    beyond = [
        str(ids[n])
        for n in np.flatnonzero(~counted).tolist()
        if n >= p.n_stations or str(p.station_county[n]) in set(p.stop_county.tolist())
    ]
    return {
        "kind": "roads",
        "roads": roads.path,
        "extract": manifest.get("extract", {}),
        "synthetic": bool(manifest.get("synthetic", False)),
        "speeds_default": manifest.get("speeds", {}),
        "speeds_overrides": dict(roads.speeds),
        "snap_limit_m": roads.snap_limit_m,
        "snap_m_max": round(float(snap[counted].max()), 1) if counted.any() else None,
        "snap_m_median": round(float(np.median(snap[counted])), 1) if counted.any() else None,
        "beyond_snap_limit": beyond,
    }
