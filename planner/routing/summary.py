"""Routes as the outputs show them: the tables, the GeoJSON and the summary of a campaign.

Pure: DataFrames and JSON-ready dicts from the problem and its result (planning model section
3); writing them is the I/O layer's work. The files are ``routes.csv`` (one row per vehicle-day:
stop order, times and clients), ``visits.csv`` (one row per stop visit), ``routes.geojson``
(one LineString per vehicle-day with the same properties), ``coverage.csv`` (per township:
demand, served, target, met, and the reason for what is left), ``unserved.csv`` (every stop
with unserved demand and its reason) and the ``"routing"`` part of ``summary.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from planner.routing.bound import target_workload
from planner.routing.problem import RoutingProblem
from planner.routing.result import REASONS, RoutingResult, reason_texts
from planner.summaries import RoutingSummary

ROUTING_DECISIONS = {
    "crews": "with --plan, a station's crew is the volunteers on the mobile_service posts of its "
    "county (new placements in assignments.csv plus continuing volunteers in seats.csv), given "
    "to the county's stations in file order, vehicles x crew size each; a station staffs "
    "floor(crew / crew size) vehicles, every campaign day. Without --plan every declared "
    "vehicle is staffed",
    "target": "a township's target is ceil(coverage_target x its demand); each stop's is "
    "ceil(coverage_target x the stop's demand), so meeting every stop's meets the township's",
    "top_up": "after the search, clients are added to the vehicle-days where shift and "
    "capacity allow, stops short of their target first; a stop's target may be completed with "
    "clients moved from stops that miss theirs anyway (clients inside targets stay as many)",
    "window": "a visit (set-up and service) lies inside the stop's window; waiting is allowed",
    "travel": "great-circle km x circuity / speed, or travel_times.csv (empty minutes: no path)",
    "capacity_allows": "a county's targets are reachable by capacity when its staffed vehicle-days "
    "x clients a day reach the sum of its townships' targets and a lower bound of the work "
    "they need fits the vehicle-days: the days needed when a day that drives to a far stop "
    "serves only what its shift leaves after the round trip, and the shift minutes of the "
    "service, one set-up per township and the least driving (planner/routing/bound.py), and, "
    "where the routes still miss a township, no proof by the day-pattern model that the "
    "targets cannot all be met (targets_proven_unreachable, pattern_proof)",
}


def _hhmm(minutes: np.ndarray | float) -> Any:
    def one(m: float) -> str:
        m = round(float(m))
        return f"{m // 60:02d}:{m % 60:02d}"

    if np.ndim(minutes) == 0:
        return one(float(minutes))
    return [one(m) for m in np.asarray(minutes).tolist()]


def route_ids(p: RoutingProblem, r: RoutingResult) -> list[str]:
    """``STATION-dDD-vK`` for each route (1-based day and vehicle)."""
    ro = r.routes
    return [
        f"{p.station_id[s]}-d{d + 1:02d}-v{k + 1}"
        for s, d, k in zip(ro.station.tolist(), ro.day.tolist(), ro.vehicle.tolist(), strict=True)
    ]


def routing_tables(p: RoutingProblem, r: RoutingResult) -> dict[str, pd.DataFrame]:
    """routes, visits, coverage and unserved as data frames."""
    ro, vi = r.routes, r.visits
    route_id = route_ids(p, r)
    visits = pd.DataFrame(
        {
            "route_id": np.asarray(route_id, dtype=object)[vi.route] if len(vi) else [],
            "order": vi.order,
            "stop_id": p.stop_id[vi.stop],
            "township_code": p.stop_township[vi.stop],
            "arrive": _hhmm(vi.arrive),
            "start": _hhmm(vi.start),
            "depart": _hhmm(vi.depart),
            "clients": vi.clients,
        }
    )
    grouped = visits.groupby("route_id", sort=False)
    joined = {
        rid: (
            " > ".join(g["stop_id"]),
            " ".join(f"{a}-{b}" for a, b in zip(g["arrive"], g["depart"], strict=True)),
            " ".join(map(str, g["clients"])),
        )
        for rid, g in grouped
    }
    routes = pd.DataFrame(
        {
            "route_id": route_id,
            "station_id": p.station_id[ro.station],
            "county_code": p.station_county[ro.station],
            "day": ro.day + 1,
            "vehicle": ro.vehicle + 1,
            "depart": _hhmm(ro.depart),
            "return": _hhmm(ro.back),
            "travel_minutes": np.round(ro.travel, 1),
            "clients": ro.clients,
            "stops": [joined[x][0] for x in route_id],
            "stop_times": [joined[x][1] for x in route_id],
            "stop_clients": [joined[x][2] for x in route_id],
        }
    )
    return {
        "routes": routes,
        "visits": visits,
        "coverage": coverage_table(p, r),
        "unserved": unserved_table(p, r),
    }


def unserved_table(p: RoutingProblem, r: RoutingResult) -> pd.DataFrame:
    """``unserved.csv``: every stop with unserved demand, the reason code and the reason in
    the language of the moment."""
    short = r.served < p.demand
    texts = reason_texts()
    return pd.DataFrame(
        {
            "stop_id": p.stop_id[short],
            "township_code": p.stop_township[short],
            "county_code": p.stop_county[short],
            "demand": p.demand[short],
            "served": r.served[short],
            "unserved": (p.demand - r.served)[short],
            "reason_code": r.reason[short],
            "reason": [texts[c] for c in r.reason[short]],
        }
    )


def coverage_table(p: RoutingProblem, r: RoutingResult) -> pd.DataFrame:
    """Per township: demand, served, target (clients), met, why the rest is unserved, and
    where the township is drawn (the mean point of its stops)."""
    frame = pd.DataFrame(
        {
            "township_code": p.stop_township,
            "county_code": p.stop_county,
            "demand": p.demand,
            "served": r.served,
            "reason": np.where(r.served < p.demand, r.reason, ""),
            "lon": p.lon[p.n_stations :],
            "lat": p.lat[p.n_stations :],
        }
    )
    agg = frame.groupby(["township_code", "county_code"], sort=True).agg(
        demand=("demand", "sum"),
        served=("served", "sum"),
        reason=("reason", lambda s: " ".join(sorted({x for x in s if x}))),
        lon=("lon", "mean"),
        lat=("lat", "mean"),
    )
    agg = agg.reset_index()
    _, targets = p.township_targets(np.arange(p.n_stops))
    agg["target"] = agg["township_code"].map(targets).astype(np.int64)
    agg["met"] = agg["served"] >= agg["target"]
    agg["coverage"] = np.round(agg["served"] / agg["demand"].where(agg["demand"] > 0, 1), 4)
    agg["lon"], agg["lat"] = agg["lon"].round(6), agg["lat"].round(6)
    columns = ["township_code", "county_code", "demand", "served", "target", "met", "coverage"]
    return agg[[*columns, "reason", "lon", "lat"]]


def routing_summary(
    p: RoutingProblem, r: RoutingResult, coverage: pd.DataFrame, run: Mapping[str, Any]
) -> RoutingSummary:
    """The ``routing`` part of summary.json; ``run`` gives how it was run (``time_limit``,
    ``seed``, ``crews``, ``total_seconds``)."""
    counties = _county_rows(p, r, coverage)
    allows = {c["county_code"] for c in counties if c["capacity_allows_targets"]}
    in_reach = coverage[coverage["county_code"].isin(allows)]
    unserved = p.demand - r.served
    by_reason = {
        code: int(unserved[r.reason == code].sum()) for code in REASONS if (r.reason == code).any()
    }
    part = {
        "status": "routed",
        "seconds": round(r.seconds, 3),
        "routes": len(r.routes),
        "visits": len(r.visits),
        "travel_minutes": round(r.travel_minutes, 1),
        "demand": int(p.demand.sum()),
        "served": int(r.served.sum()),
        "coverage_target": p.coverage_target,
        "townships": len(coverage),
        "townships_met": int(coverage["met"].sum()),
        "townships_where_capacity_allows": len(in_reach),
        "townships_met_where_capacity_allows": int(in_reach["met"].sum()),
        "townships_missed_where_capacity_allows": [
            {
                "township_code": str(code),
                "county_code": str(county),
                "target": int(target),
                "served": int(served),
                "reason": str(reason),
            }
            for code, county, target, served, reason in in_reach.loc[
                ~in_reach["met"], ["township_code", "county_code", "target", "served", "reason"]
            ].to_numpy()
        ],
        "unserved_by_reason": by_reason,
        "reasons": reason_texts(),
        "counties": counties,
        "subproblems": [
            {
                "county_code": s.county,
                "vehicle_days": s.vehicle_days,
                "visit_nodes": s.nodes,
                "status": s.status,
                "seconds": round(s.seconds, 3),
            }
            for s in r.subproblems
        ],
        "decisions": ROUTING_DECISIONS,
    }
    return RoutingSummary.from_dict({**part, **run})


def _county_rows(
    p: RoutingProblem, r: RoutingResult, coverage: pd.DataFrame
) -> list[dict[str, Any]]:
    """Each county's row of the routing summary: its targets against its staffed capacity,
    the workload bound and the day-pattern proof, what was served and met."""
    capacity = (p.staffed.sum(axis=1) * p.capacity).astype(np.int64)
    proofs = {s.county: s for s in r.subproblems if s.proof}
    counties = []
    for county in sorted(set(p.stop_county.tolist())):
        cov = coverage[coverage["county_code"] == county]
        cap = int(capacity[p.station_county == county].sum())
        target = int(cov["target"].sum())
        work = target_workload(p, county)
        proven = county in proofs and proofs[county].unreachable
        counties.append(
            {
                "county_code": county,
                "townships": len(cov),
                "demand": int(cov["demand"].sum()),
                "target": target,
                "staffed_capacity": cap,
                "target_days_needed": work.need_days,
                "staffed_vehicle_days": work.days,
                "target_shift_minutes_needed": round(work.need_minutes, 1)
                if np.isfinite(work.need_minutes)
                else None,
                "staffed_shift_minutes": round(work.shift_minutes, 1),
                "targets_proven_unreachable": proven,
                "capacity_allows_targets": cap >= target and work.allows and not proven,
                "served": int(cov["served"].sum()),
                "townships_met": int(cov["met"].sum()),
                **({"pattern_proof": proofs[county].proof} if county in proofs else {}),
            }
        )
    return counties


def routes_geojson(p: RoutingProblem, r: RoutingResult) -> dict[str, Any]:
    """One LineString per vehicle-day: station, stops in order, station (WGS-84 lon/lat)."""
    features = []
    ro, vi = r.routes, r.visits
    ids = route_ids(p, r)
    for k in range(len(ro)):
        rows = np.flatnonzero(vi.route == k)
        rows = rows[np.argsort(vi.order[rows], kind="stable")]
        s = int(ro.station[k])
        nodes = [s, *(p.n_stations + vi.stop[rows]).tolist(), s]
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[float(p.lon[n]), float(p.lat[n])] for n in nodes],
                },
                "properties": {
                    "route_id": ids[k],
                    "station_id": str(p.station_id[s]),
                    "day": int(ro.day[k]) + 1,
                    "vehicle": int(ro.vehicle[k]) + 1,
                    "depart": _hhmm(ro.depart[k]),
                    "return": _hhmm(ro.back[k]),
                    "travel_minutes": round(float(ro.travel[k]), 1),
                    "clients": int(ro.clients[k]),
                    "stops": [
                        {
                            "order": int(vi.order[i]),
                            "stop_id": str(p.stop_id[vi.stop[i]]),
                            "township_code": str(p.stop_township[vi.stop[i]]),
                            "arrive": _hhmm(vi.arrive[i]),
                            "start": _hhmm(vi.start[i]),
                            "depart": _hhmm(vi.depart[i]),
                            "clients": int(vi.clients[i]),
                        }
                        for i in rows.tolist()
                    ],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
