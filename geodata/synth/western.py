"""Synthetic Western Plan allocation scenarios (seed 1: the 2006 implementation plan).

:func:`allocation_tables` is the one parametrised core: from a set of real service counties and
their synthetic townships it makes the quotas, declared posts, continuing volunteers, pairing,
targets and applicants of the data contract, so that the declaration rules hold by
construction:

- D1: open general seats >= ceil(1.2 x general quota) and open seats of each special action
  >= its quota; seats held by continuing volunteers are added on top (D4).
- D2: seats of category ``other`` <= 10 % of the county's *general* quota (so also of its
  whole quota).
- D3: posts sit at synthetic township points inside the real county polygon, township codes
  start with the county code.
- D7: each service province is paired with 1 to 3 recruiting provinces; every recruiting
  province of the pool is used at least once.

Deliberate warnings only: D5 (some counties did not serve last year) and, where asked for,
D6 (a few education posts with ``required_majors``). Preferences only name paired service
provinces and non-barred service counties in them.
The phases live beside this module: the counties in :mod:`geodata.synth.counties`, the sizes
in :mod:`geodata.synth.allocation_spec`, the posts and continuing volunteers in
:mod:`geodata.synth.posts`, the applicants in :mod:`geodata.synth.applicants`; the quotas and
the pairing here.

:func:`generate_western_2006` applies the core to the 12 western provinces at the seed's
scale (6,500 new volunteers); :mod:`geodata.synth.tiers` applies it at the scale tiers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.synth.allocation_spec import AllocationSpec
from geodata.synth.applicants import applicants_table
from geodata.synth.common import (
    GEOMETRY_NOTE,
    WESTERN_PROVINCES,
    SyntheticScenario,
    apportion,
    make_rng,
    make_scenario,
    township_table,
)
from geodata.synth.counties import area_of, choose_counties, townships_by_area
from geodata.synth.posts import declared_posts
from planner.scenario import SPECIAL_ACTIONS
from planner.schema import QUOTAS

log = logging.getLogger(__name__)

# --- the mixes (documented defaults of the synthetic data) -----------------------------------

_SPECIAL_PRESENCE = np.array([0.35, 0.25, 0.15, 0.10, 0.10, 0.08, 0.06])
"""Chance that a county runs each special action, in ``SPECIAL_ACTIONS`` order."""

_SPECIAL_WEIGHT = np.array([3.0, 2.0, 1.5, 1.0, 1.0, 1.0, 1.0])
"""Relative size of each special action inside a county's special budget."""

_WESTERN_2006_COUNTIES: Mapping[str, int] = {
    "150000": 30,
    "450000": 32,
    "500000": 22,
    "510000": 40,
    "520000": 32,
    "530000": 36,
    "540000": 24,
    "610000": 32,
    "620000": 32,
    "630000": 18,
    "640000": 10,
    "650000": 32,
}
"""Service counties per western province in ``western-2006`` (340 in all)."""

QUOTA_COLUMNS: tuple[str, ...] = (*(c.name for c in QUOTAS.columns), "county_name")
"""The columns of ``quotas.csv``: the contract's (:data:`planner.schema.QUOTAS`), then the
county's name."""


# --- the core -------------------------------------------------------------------------------------


def allocation_tables(
    counties: gpd.GeoDataFrame,
    townships: pd.DataFrame,
    spec: AllocationSpec,
    seed: int,
    home_counties: pd.DataFrame,
    mobile_seats: np.ndarray | None = None,
) -> dict[str, pd.DataFrame]:
    """Quotas, posts, continuing volunteers, pairing, targets and applicants.

    Parameters
    ----------
    counties : geopandas.GeoDataFrame
        Service counties (``code``, ``name``, ``province_code``), sorted by code.
    townships : pandas.DataFrame
        Synthetic townships of these counties (:func:`geodata.synth.common.township_table`),
        grouped by county in the order of ``counties``.
    spec : AllocationSpec
        Sizes and mixes.
    seed : int
        Scenario seed; each part draws from its own stream.
    home_counties : pandas.DataFrame
        All counties (``code``, ``province_code``): applicants' home counties.
    mobile_seats : numpy.ndarray, optional
        Seats of the ``mobile_service`` post per county (vehicles x crew size; 0: no post).
        ``None``: a share ``spec.mobile_share`` of counties gets a 2- or 4-seat post.

    Returns
    -------
    dict of str to pandas.DataFrame
        Keys ``quotas``, ``posts``, ``continuing``, ``applicants``, ``pairing``, ``targets``.
    """
    n = len(counties)
    if n == 0:
        raise ValueError("expected at least one service county; received none")
    if spec.quota_total < n:
        raise ValueError(
            f"quota_total {spec.quota_total} is below the number of counties {n}; "
            "expected at least one new volunteer per county"
        )
    codes = counties["code"].to_numpy(str)
    t0 = time.perf_counter()
    quotas = _quotas(counties, spec, seed, mobile_seats)
    posts, continuing = declared_posts(quotas, townships, spec, seed, mobile_seats)
    pairing, targets = _pairing(quotas, spec, seed)
    applicants = applicants_table(quotas, pairing, targets, spec, seed, home_counties)
    log.debug(
        "allocation tables for %d counties: %d posts, %d applicants in %.2f s",
        len(codes),
        len(posts),
        len(applicants),
        time.perf_counter() - t0,
    )
    return {
        "quotas": quotas,
        "posts": posts,
        "continuing": continuing,
        "applicants": applicants,
        "pairing": pairing,
        "targets": targets,
    }


def _quotas(
    counties: gpd.GeoDataFrame,
    spec: AllocationSpec,
    seed: int,
    mobile_seats: np.ndarray | None,
) -> pd.DataFrame:
    """County quotas: a gamma-distributed total, split into general and special actions."""
    rng = make_rng(seed, "quotas")
    n = len(counties)
    total = apportion(
        spec.quota_total, rng.gamma(4.0, 1.0, n), minimum=min(5, spec.quota_total // n)
    )
    present = rng.random((n, len(SPECIAL_ACTIONS))) < _SPECIAL_PRESENCE
    budget = np.round(total * rng.uniform(0.08, 0.26, n)).astype(np.int64)
    special = np.zeros((n, len(SPECIAL_ACTIONS)), dtype=np.int64)
    for i in range(n):
        acts = np.flatnonzero(present[i])
        b = min(max(int(budget[i]), 1), int(total[i]) - 1)
        if len(acts) == 0 or b < 1:
            continue
        if b < len(acts):
            acts = np.sort(rng.permutation(acts)[:b])
        special[i, acts] = apportion(b, _SPECIAL_WEIGHT[acts], minimum=1)
    general = total - special.sum(axis=1)

    barred = np.zeros(n, dtype=bool)
    served = np.ones(n, dtype=bool)
    has_mobile = np.zeros(n, dtype=bool) if mobile_seats is None else np.asarray(mobile_seats) > 0
    candidates = np.flatnonzero(~has_mobile)
    k_barred = min(spec.barred, max(len(candidates) - 1, 0))
    if k_barred:
        barred[rng.choice(candidates, size=k_barred, replace=False)] = True
    fresh = np.flatnonzero(~barred)
    k_new = min(spec.new_counties, max(len(fresh) - 1, 0))
    if k_new:
        served[rng.choice(fresh, size=k_new, replace=False)] = False

    frame = pd.DataFrame({"county_code": counties["code"].to_numpy(str)})
    frame["general_quota"] = general
    for j, action in enumerate(SPECIAL_ACTIONS):
        frame[f"{action}_quota"] = special[:, j]
    frame["barred"] = barred
    frame["served_last_year"] = served
    frame["county_name"] = counties["name"].to_numpy(str)
    frame["province_code"] = counties["province_code"].to_numpy(str)  # dropped before output
    return frame


def _pairing(
    quotas: pd.DataFrame, spec: AllocationSpec, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Service -> recruiting pairs (1-3 each, D7) and both kinds of targets."""
    rng = make_rng(seed, "pairing")
    q = quotas["general_quota"].to_numpy(np.int64) + quotas[
        [f"{a}_quota" for a in SPECIAL_ACTIONS]
    ].to_numpy(np.int64).sum(axis=1)
    dispatch = pd.Series(q).groupby(quotas["province_code"].to_numpy(str)).sum().sort_index()
    service = dispatch.index.to_numpy(str)
    ns = len(service)
    pool = np.asarray(sorted(set(spec.recruit_pool)))
    count = min(len(pool), 3 * ns) if spec.recruit_count is None else spec.recruit_count
    if not 1 <= count <= min(len(pool), 3 * ns):
        raise ValueError(
            f"recruit_count {count} impossible: {ns} service provinces take 1 to 3 recruiting "
            f"provinces each, the pool has {len(pool)}"
        )
    if count < len(pool):
        pool = np.sort(rng.choice(pool, size=count, replace=False))
    order = rng.permutation(pool)
    pairs: list[list[str]] = [[] for _ in range(ns)]
    for j in range(ns):  # each service province gets one
        pairs[j].append(str(order[j % len(order)]))
    weight = dispatch.to_numpy(float)
    for r in order[ns:]:  # every recruiting province is used at least once
        room = np.asarray([len(p) < 3 for p in pairs])
        w = np.where(room, weight / np.asarray([len(p) for p in pairs]), 0.0)
        j = int(rng.choice(ns, p=w / w.sum()))
        pairs[j].append(str(r))
    for j in range(ns):  # a few second pairings of an already used recruiting province
        if len(pairs[j]) < 3 and len(pool) > len(pairs[j]) and rng.random() < 0.25:
            free = [str(r) for r in pool if str(r) not in pairs[j]]
            pairs[j].append(free[int(rng.integers(len(free)))])

    rows: list[tuple[str, str, int, bool]] = []
    for j, s in enumerate(service):
        rec = sorted(pairs[j])
        split = apportion(int(dispatch.iloc[j]), rng.dirichlet(np.full(len(rec), 3.0)), minimum=1)
        for r, k in zip(rec, split, strict=True):
            rows.append((str(s), r, int(k), bool(rng.random() < spec.pair_seats_share)))
    pairing = pd.DataFrame(
        {
            "service_province": [s for s, _, _, _ in rows],
            "recruit_province": [r for _, r, _, _ in rows],
            "seats": pd.array([k if given else pd.NA for _, _, k, given in rows], dtype="Int64"),
        }
    )
    pair_split = pd.Series(
        [k for _, _, k, _ in rows], index=pairing["recruit_province"].to_numpy(str)
    )
    recruit = pair_split.groupby(level=0).sum().sort_index()
    targets = pd.DataFrame(
        {
            "province_code": np.concatenate([service, recruit.index.to_numpy(str)]),
            "role": ["service"] * ns + ["recruit"] * len(recruit),
            "target": np.concatenate([dispatch.to_numpy(np.int64), recruit.to_numpy(np.int64)]),
        }
    )
    return pairing, targets


# --- scenario assembly -------------------------------------------------------------------------


def allocation_scenario_tables(
    counties: gpd.GeoDataFrame,
    townships: pd.DataFrame,
    spec: AllocationSpec,
    seed: int,
    mobile_seats: np.ndarray | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`allocation_tables` with the home counties of all China, helper columns dropped."""
    from geodata import china

    tables = allocation_tables(
        counties, townships, spec, seed, china.county_table(), mobile_seats=mobile_seats
    )
    tables["quotas"] = tables["quotas"][list(QUOTA_COLUMNS)]
    return tables


def summarize(tables: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """Sizes of an allocation scenario: counties, posts, seats, quota, applicants, continuing."""
    q = tables["quotas"]
    quota = int(q["general_quota"].sum() + sum(q[f"{a}_quota"].sum() for a in SPECIAL_ACTIONS))
    return {
        "counties": len(q),
        "posts": len(tables["posts"]),
        "seats": int(tables["posts"]["seats"].sum()),
        "quota": quota,
        "applicants": len(tables["applicants"]),
        "continuing": len(tables["continuing"]),
    }


def generate_western_2006(seed: int = 2006) -> SyntheticScenario:
    """The ``western-2006`` scenario: the 2006 Western Plan at the seed's scale.

    12 western service provinces, 340 real service counties (10 to 40 a province), 6,500
    new-volunteer seats (quota sum) of which about 12 % in special actions, posts declared by
    D1/D2, about 6 % continuing volunteers on top, 4 barred counties, 6 new counties (D5
    warnings), 3 education posts with ``required_majors`` (D6 warnings), pairings of the 31
    mainland recruiting provinces and 9,750 applicants (1.5 per seat).

    Parameters
    ----------
    seed : int, default 2006
        Seed of every random draw; the same seed gives byte-identical files.

    Returns
    -------
    SyntheticScenario
    """
    from geodata import china

    t0 = time.perf_counter()
    all_counties = china.load_counties()
    rng = make_rng(seed, "counties")
    parts = []
    for province, k in _WESTERN_2006_COUNTIES.items():
        frame = all_counties[all_counties["province_code"] == province]
        parts.append(choose_counties(frame, k, rng))
    counties = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=all_counties.crs)
    townships = township_table(
        counties, townships_by_area(area_of(counties)), make_rng(seed, "townships")
    )
    spec = AllocationSpec(
        quota_total=6500,
        applicants=9750,
        barred=4,
        new_counties=6,
        d6_warnings=3,
        short_provinces=4,
    )
    tables = allocation_scenario_tables(counties, townships, spec, seed)
    sizes = summarize(tables)
    description = (
        "SYNTHETIC scenario after the 2006 Western Plan implementation plan (大学生志愿服务西部计划, "
        f"seed document 范文1): {sizes['counties']} real service counties in the 12 western "
        f"provinces, 6,500 new-volunteer seats, {sizes['posts']} posts, "
        f"{sizes['applicants']} applicants. Synthetic tables: quotas, posts (with synthetic "
        "township codes, names and points), continuing, applicants, pairing and targets; no "
        f"real person or post is described. {GEOMETRY_NOTE}"
    )
    log.info(
        "generated western-2006 (seed %d) in %.1f s: %s", seed, time.perf_counter() - t0, sizes
    )
    return make_scenario("western-2006", 2006, seed, description, tables)


def western_counties(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The counties of the 12 western provinces, sorted by code."""
    out = frame[frame["province_code"].isin(WESTERN_PROVINCES)]
    return out.sort_values("code").reset_index(drop=True)
