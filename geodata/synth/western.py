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

:func:`generate_western_2006` applies the core to the 12 western provinces at the seed's
scale (6,500 new volunteers); :mod:`geodata.synth.tiers` applies it at the scale tiers.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.synth.common import (
    DEFAULT_RULES,
    GEOMETRY_NOTE,
    MAINLAND_PROVINCES,
    WESTERN_PROVINCES,
    SyntheticScenario,
    apportion,
    equal_area_km2,
    make_rng,
    make_scenario,
    ranks_within,
    township_table,
)
from planner.scenario import CATEGORIES, DEGREES, MAJOR_CLASSES, SPECIAL_ACTIONS

log = logging.getLogger(__name__)

# --- the mixes (documented defaults of the synthetic data) -----------------------------------

_GENERAL_RATIO = float(DEFAULT_RULES["general_post_ratio"])
_OTHER_SHARE = float(DEFAULT_RULES["other_max_share"])

_SPECIAL_PRESENCE = np.array([0.35, 0.25, 0.15, 0.10, 0.10, 0.08, 0.06])
"""Chance that a county runs each special action, in ``SPECIAL_ACTIONS`` order."""

_SPECIAL_WEIGHT = np.array([3.0, 2.0, 1.5, 1.0, 1.0, 1.0, 1.0])
"""Relative size of each special action inside a county's special budget."""

_GENERAL_MIX = np.array([6.0, 2.2, 1.8])
"""Dirichlet centre of the education / health / agriculture split of general seats."""

_RELAY_CHANCE: Mapping[str, float] = {
    "education": 0.22,
    "health": 0.08,
    "agriculture": 0.06,
    **dict.fromkeys(SPECIAL_ACTIONS, 0.05),
    "mobile_service": 0.0,
    "other": 0.0,
}
"""Chance that a post is a relay post (接力机制), mostly education."""

_REQUIRED_MAJORS: Mapping[str, tuple[float, str]] = {
    "health": (0.4, "medicine"),
    "agriculture": (0.2, "agriculture;science"),
    "remote_education": (0.3, "engineering;science"),
    "procuratorate": (0.6, "law"),
    "legal_aid": (0.6, "law"),
    "court": (0.6, "law"),
    "development_finance": (0.5, "economics_finance;management"),
}
"""Chance and value of ``required_majors`` per category (education: never, except D6 cases)."""

_MAJOR_MIX = np.array([0.22, 0.10, 0.08, 0.08, 0.10, 0.12, 0.08, 0.08, 0.05, 0.07, 0.02])
"""Share of each major class among applicants, in ``MAJOR_CLASSES`` order."""

_DEGREE_MIX = np.array([0.11, 0.82, 0.055, 0.015])
"""Degree mix of an ordinary recruiting province (junior_college, bachelor, master, doctor)."""

_DEGREE_MIX_SHORT = np.array([0.30, 0.64, 0.05, 0.01])
"""Degree mix of a recruiting province short of bachelors (70 % bachelor or higher)."""

_CATEGORY_OF_MAJOR: Mapping[str, tuple[str, ...]] = {
    "education": ("education", "youth_center"),
    "medicine": ("health", "mobile_service"),
    "agriculture": ("agriculture",),
    "law": ("legal_aid", "court", "procuratorate"),
    "economics_finance": ("development_finance",),
    "engineering": ("remote_education", "agriculture"),
    "science": ("education", "remote_education"),
    "humanities": ("rural_culture", "education"),
    "arts": ("rural_culture",),
    "management": ("youth_center", "development_finance"),
    "other": ("other",),
}
"""Categories an applicant of a major class may name in ``preferred_categories``."""

_PREF_COUNT_MIX = np.array([0.15, 0.20, 0.30, 0.20, 0.15])
"""Share of applicants with 1..5 preferences."""

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

QUOTA_COLUMNS: tuple[str, ...] = (
    "county_code",
    "general_quota",
    *(f"{a}_quota" for a in SPECIAL_ACTIONS),
    "barred",
    "served_last_year",
    "county_name",
)
POST_COLUMNS: tuple[str, ...] = (
    "post_id",
    "county_code",
    "township_code",
    "category",
    "seats",
    "lon",
    "lat",
    "township_name",
    "relay",
    "required_majors",
    "min_degree",
)
APPLICANT_COLUMNS: tuple[str, ...] = (
    "applicant_id",
    "recruit_province",
    "degree",
    "major_class",
    "pref_1",
    "pref_2",
    "pref_3",
    "pref_4",
    "pref_5",
    "home_county_code",
    "home_lon",
    "home_lat",
    "preferred_categories",
    "term_years",
    "health_ok",
)


@dataclass(frozen=True, slots=True)
class AllocationSpec:
    """Sizes and mixes of one synthetic allocation scenario.

    Attributes
    ----------
    quota_total : int
        Sum of all county quotas (general + special), i.e. the new volunteers to place.
    applicants : int
        Number of applicants.
    posts : int or None
        Exact number of posts; ``None``: about ``seats_per_post`` seats a post.
    seats_per_post : float
        Mean seats of a post when ``posts`` is ``None``.
    barred : int
        Counties barred after a serious accident (quota listed, ``barred = 1``).
    new_counties : int
        Counties with ``served_last_year = 0`` (a D5 warning each).
    continuing_share : float
        Continuing two-year volunteers per unit of quota (seats added on top, D4).
    mobile_share : float
        Share of counties with a ``mobile_service`` post when no stations give the crews.
    recruit_pool : tuple of str
        Candidate recruiting provinces.
    recruit_count : int or None
        How many of the pool recruit (``None``: all, at most 3 per service province).
    short_provinces : int
        Recruiting provinces whose applicants are only ~70 % bachelors or higher.
    d6_warnings : int
        Education posts given ``required_majors`` on purpose (D6 warnings).
    pair_seats_share : float
        Share of pairs that carry a seat count.
    """

    quota_total: int
    applicants: int
    posts: int | None = None
    seats_per_post: float = 1.6
    barred: int = 0
    new_counties: int = 0
    continuing_share: float = 0.08
    mobile_share: float = 0.12
    recruit_pool: tuple[str, ...] = MAINLAND_PROVINCES
    recruit_count: int | None = None
    short_provinces: int = 4
    d6_warnings: int = 0
    pair_seats_share: float = 0.5


# --- county selection and townships ------------------------------------------------------------


def county_weights(counties: pd.DataFrame) -> np.ndarray:
    """Weights for choosing service counties: rural counties (县, 旗) before districts (区).

    County-level units administered by the XPCC (6590xx) and Haixi's directly administered
    area (名 ending in 直辖) get weight 0.
    """
    names = counties["name"].astype(str)
    codes = counties["code"].astype(str)
    w = np.where(
        names.str.endswith(("县", "旗")),
        3.0,
        np.where(names.str.endswith("市"), 1.5, np.where(names.str.endswith("区"), 0.5, 0.0)),
    )
    w[codes.str.startswith("6590").to_numpy() | names.str.endswith("直辖").to_numpy()] = 0.0
    return np.asarray(w, dtype=float)


def choose_counties(
    frame: gpd.GeoDataFrame, k: int, rng: np.random.Generator, weighted: bool = True
) -> gpd.GeoDataFrame:
    """Choose ``k`` counties of ``frame`` without replacement; rows sorted by code."""
    if k >= len(frame):
        return frame.sort_values("code").reset_index(drop=True)
    w = county_weights(frame) if weighted else np.ones(len(frame))
    if (w > 0).sum() < k:
        w = np.where(w > 0, w, 0.1)
    idx = rng.choice(len(frame), size=k, replace=False, p=w / w.sum())
    return frame.iloc[np.sort(idx)].sort_values("code").reset_index(drop=True)


def townships_by_area(area_km2: np.ndarray) -> np.ndarray:
    """Synthetic townships per county from its area: 6 to 30 (about 4 + sqrt(area) / 6)."""
    return np.clip(np.round(4 + np.sqrt(np.asarray(area_km2)) / 6), 6, 30).astype(np.int64)


def area_of(frame: gpd.GeoDataFrame) -> np.ndarray:
    """County areas in km², from ``area_km2`` when present."""
    if "area_km2" in frame.columns:
        return frame["area_km2"].to_numpy(dtype=float)
    return equal_area_km2(frame)


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
    posts, continuing = _posts(quotas, townships, spec, seed, mobile_seats)
    pairing, targets = _pairing(quotas, spec, seed)
    applicants = _applicants(quotas, pairing, targets, spec, seed, home_counties)
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


def _posts(
    quotas: pd.DataFrame,
    townships: pd.DataFrame,
    spec: AllocationSpec,
    seed: int,
    mobile_seats: np.ndarray | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Declared posts (D1, D2 by construction) and the continuing volunteers on them."""
    rng = make_rng(seed, "posts")
    n = len(quotas)
    general = quotas["general_quota"].to_numpy(np.int64)
    special = quotas[[f"{a}_quota" for a in SPECIAL_ACTIONS]].to_numpy(np.int64)
    total = general + special.sum(axis=1)
    if mobile_seats is None:
        mobile = np.where(rng.random(n) < spec.mobile_share, 2 * rng.integers(1, 3, n), 0)
    else:
        mobile = np.asarray(mobile_seats, dtype=np.int64)

    # Seats per (county, category) bucket, in CATEGORIES order within a county.
    cat_index = {c: i for i, c in enumerate(CATEGORIES)}
    seats = np.zeros((n, len(CATEGORIES)), dtype=np.int64)
    held = np.zeros((n, len(CATEGORIES)), dtype=np.int64)
    mix = rng.dirichlet(_GENERAL_MIX * 2.0, size=n)
    slack = rng.binomial(np.maximum(general // 8, 1), 0.5)
    other_roll = rng.random(n)
    continuing = rng.binomial(total, spec.continuing_share)
    extra_special = rng.random((n, len(SPECIAL_ACTIONS))) < 0.15
    for i in range(n):
        g = int(general[i])
        need = math.ceil(_GENERAL_RATIO * g - 1e-9)  # D1, general bucket
        declared = need + int(slack[i]) if g > 0 else 0
        m = int(mobile[i])
        cap_other = math.floor(_OTHER_SHARE * g + 1e-9)  # D2 against the general quota alone
        o = int(rng.integers(1, cap_other + 1)) if cap_other >= 1 and other_roll[i] < 0.3 else 0
        rest = max(declared - m - o, 1 if g > 0 else 0)
        if rest > 0:
            split = apportion(rest, mix[i])
            seats[i, cat_index["education"]] = split[0]
            seats[i, cat_index["health"]] = split[1]
            seats[i, cat_index["agriculture"]] = split[2]
        seats[i, cat_index["mobile_service"]] = m
        seats[i, cat_index["other"]] = o
        for j, action in enumerate(SPECIAL_ACTIONS):
            q = int(special[i, j])
            if q > 0:
                seats[i, cat_index[action]] = q + int(extra_special[i, j])
        # D4: continuing volunteers keep seats on education/health/agriculture posts; their
        # seats are added on top of the declared ones.
        k = int(continuing[i])
        base = seats[i, [cat_index["education"], cat_index["health"], cat_index["agriculture"]]]
        if k > 0 and base.sum() > 0:
            add = rng.multinomial(k, base / base.sum())
            for c, a in zip(("education", "health", "agriculture"), add, strict=True):
                held[i, cat_index[c]] += a
                seats[i, cat_index[c]] += a

    # Buckets -> number of posts.
    b_county, b_cat = np.nonzero(seats)
    b_seats = seats[b_county, b_cat]
    b_held = held[b_county, b_cat]
    is_mobile = b_cat == cat_index["mobile_service"]
    nb = len(b_seats)
    if spec.posts is not None:
        lo = np.ones(nb, dtype=np.int64)
        hi = np.where(is_mobile, 1, b_seats)
        if spec.posts < nb or spec.posts > hi.sum():
            raise ValueError(
                f"cannot declare exactly {spec.posts} posts over {nb} (county, category) buckets "
                f"with {int(b_seats.sum())} seats; expected between {nb} and {int(hi.sum())}"
            )
        n_posts = apportion(spec.posts, b_seats * rng.uniform(0.7, 1.3, nb), lo, hi)
    else:
        n_posts = np.round(b_seats / spec.seats_per_post * rng.uniform(0.75, 1.25, nb))
        n_posts = np.clip(n_posts, 1, b_seats).astype(np.int64)
        n_posts[is_mobile] = 1
    total_posts = int(n_posts.sum())

    # Seats of each post: 1 each, the bucket's remaining seats spread at random.
    post_bucket = np.repeat(np.arange(nb), n_posts)
    first = np.cumsum(n_posts) - n_posts
    extra_bucket = np.repeat(np.arange(nb), b_seats - n_posts)
    pick = first[extra_bucket] + np.floor(
        rng.random(len(extra_bucket)) * n_posts[extra_bucket]
    ).astype(np.int64)
    post_seats = 1 + np.bincount(pick, minlength=total_posts)

    # Continuing volunteers: seats drawn without replacement among the bucket's seats.
    post_held = np.zeros(total_posts, dtype=np.int64)
    for b in np.flatnonzero(b_held):
        members = np.arange(first[b], first[b] + n_posts[b])
        seat_owner = np.repeat(members, post_seats[members])
        chosen = rng.choice(len(seat_owner), size=int(b_held[b]), replace=False)
        np.add.at(post_held, seat_owner[chosen], 1)

    # Townships: mobile posts at township 001 (the county seat, where the station is).
    county_of_post = b_county[post_bucket]
    town_count = np.bincount(
        pd.Index(quotas["county_code"]).get_indexer(townships["county_code"]), minlength=n
    )
    if (town_count < 1).any():
        raise ValueError("every service county needs at least one township")
    town_first = np.cumsum(town_count) - town_count
    local = np.floor(rng.random(total_posts) * town_count[county_of_post]).astype(np.int64)
    post_cat = np.asarray(CATEGORIES)[b_cat[post_bucket]]
    local[post_cat == "mobile_service"] = 0
    town_row = town_first[county_of_post] + local

    county_codes = quotas["county_code"].to_numpy(str)[county_of_post]
    rank = ranks_within(np.bincount(county_of_post, minlength=n)) + 1
    post_id = np.asarray([f"P{c}{r:03d}" for c, r in zip(county_codes, rank, strict=True)])

    relay_p = np.asarray([_RELAY_CHANCE[c] for c in post_cat])
    relay = rng.random(total_posts) < relay_p
    roll = rng.random(total_posts)
    required = np.full(total_posts, "", dtype=object)
    for cat, (p, value) in _REQUIRED_MAJORS.items():
        required[(post_cat == cat) & (roll < p)] = value
    if spec.d6_warnings:
        edu = np.flatnonzero(post_cat == "education")
        chosen = rng.choice(edu, size=min(spec.d6_warnings, len(edu)), replace=False)
        required[chosen] = "education"
    roll = rng.random(total_posts)
    min_degree = np.full(total_posts, "", dtype=object)
    min_degree[(roll < 0.08) & (post_cat != "mobile_service")] = "bachelor"
    min_degree[(roll < 0.15) & (post_cat == "development_finance")] = "master"

    posts = pd.DataFrame(
        {
            "post_id": post_id,
            "county_code": county_codes,
            "township_code": townships["township_code"].to_numpy(str)[town_row],
            "category": post_cat,
            "seats": post_seats.astype(np.int64),
            "lon": townships["lon"].to_numpy(float)[town_row],
            "lat": townships["lat"].to_numpy(float)[town_row],
            "township_name": townships["township_name"].to_numpy(str)[town_row],
            "relay": relay,
            "required_majors": required.astype(str),
            "min_degree": min_degree.astype(str),
        },
        columns=list(POST_COLUMNS),
    )
    holder = np.repeat(post_id, post_held)
    cont = pd.DataFrame(
        {
            "volunteer_id": [f"V{i:06d}" for i in range(1, len(holder) + 1)],
            "post_id": holder,
        }
    )
    return posts, cont


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


def _applicants(
    quotas: pd.DataFrame,
    pairing: pd.DataFrame,
    targets: pd.DataFrame,
    spec: AllocationSpec,
    seed: int,
    home_counties: pd.DataFrame,
) -> pd.DataFrame:
    """Applicants in proportion to the recruitment targets, preferring paired provinces."""
    rng = make_rng(seed, "applicants")
    recruit = targets[targets["role"] == "recruit"]
    r_codes = recruit["province_code"].to_numpy(str)
    r_target = recruit["target"].to_numpy(float)
    per_r = apportion(
        spec.applicants, r_target, minimum=1 if spec.applicants >= len(r_codes) else 0
    )

    # Recruiting provinces short of bachelors: among the larger ones, so the effect is visible.
    k_short = min(spec.short_provinces, len(r_codes))
    big = np.argsort(-per_r, kind="stable")[: max(k_short, (len(r_codes) + 1) // 2)]
    short = np.zeros(len(r_codes), dtype=bool)
    if k_short:
        short[rng.choice(np.sort(big), size=k_short, replace=False)] = True

    # Service counties open to preferences: not barred, weighted by quota.
    open_q = quotas[~quotas["barred"].to_numpy(bool)]
    q_open = open_q["general_quota"].to_numpy(float) + open_q[
        [f"{a}_quota" for a in SPECIAL_ACTIONS]
    ].to_numpy(float).sum(axis=1)
    open_codes = open_q["county_code"].to_numpy(str)
    open_prov = open_q["province_code"].to_numpy(str)
    county_by_s: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for s in np.unique(open_prov):
        mask = open_prov == s
        county_by_s[str(s)] = (open_codes[mask], q_open[mask] / q_open[mask].sum())
    dispatch = dict(
        zip(
            targets.loc[targets["role"] == "service", "province_code"],
            targets.loc[targets["role"] == "service", "target"],
            strict=True,
        )
    )
    home_codes = home_counties["code"].to_numpy(str)
    home_prov = home_counties["province_code"].to_numpy(str)

    rec_col: list[np.ndarray] = []
    deg_col: list[np.ndarray] = []
    home_col: list[np.ndarray] = []
    pref_col: list[np.ndarray] = []
    for r, m, is_short in zip(r_codes, per_r, short, strict=True):
        m = int(m)
        if m == 0:
            continue
        mix = np.cumsum(_DEGREE_MIX_SHORT if is_short else _DEGREE_MIX)
        deg_col.append(np.minimum(np.searchsorted(mix, rng.random(m) * mix[-1], side="right"), 3))
        rec_col.append(np.full(m, r))
        homes = home_codes[home_prov == r]
        if len(homes) == 0:
            raise ValueError(f"recruiting province {r} has no county for applicants' homes")
        home_col.append(homes[rng.integers(0, len(homes), m)])
        paired = sorted(
            s
            for s in pairing.loc[pairing["recruit_province"] == r, "service_province"]
            if s in county_by_s
        )
        if not paired:
            raise ValueError(
                f"recruiting province {r} has no paired service province with counties"
            )
        # Up to 5 distinct choices among the paired provinces and their counties, drawn
        # without replacement (Gumbel top-k): a province first in 60 % of the cases.
        cand: list[str] = []
        weight: list[float] = []
        mass = sum(dispatch[s] for s in paired)
        for s in paired:
            cand.append(s)
            weight.append(0.6 * dispatch[s] / mass)
            cc, cw = county_by_s[s]
            cand.extend(cc.tolist())
            weight.extend((0.4 * dispatch[s] / mass * cw).tolist())
        codes = np.asarray(cand)
        k = min(5, len(codes))
        keys = np.log(np.asarray(weight))[None, :] + rng.gumbel(size=(m, len(codes)))
        top = np.argsort(-keys, axis=1, kind="stable")[:, :k]
        prefs = np.full((m, 5), "", dtype=object)
        prefs[:, :k] = codes[top]
        n_pref = rng.choice(5, size=m, p=_PREF_COUNT_MIX) + 1
        prefs[np.arange(5)[None, :] >= n_pref[:, None]] = ""
        pref_col.append(prefs)

    recruit_province = np.concatenate(rec_col)
    total = len(recruit_province)
    degree = np.asarray(DEGREES)[np.concatenate(deg_col)]
    prefs = np.concatenate(pref_col).astype(str)
    major = np.asarray(MAJOR_CLASSES)[rng.choice(len(MAJOR_CLASSES), size=total, p=_MAJOR_MIX)]
    preferred = np.full(total, "", dtype=object)
    wants = rng.random(total) < 0.25
    pick = rng.random(total)
    for mc, cats in _CATEGORY_OF_MAJOR.items():
        sel = wants & (major == mc)
        preferred[sel] = np.asarray(cats)[np.floor(pick[sel] * len(cats)).astype(np.int64)]
    term = np.where(rng.random(total) < 0.7, 1, 2)
    health = rng.random(total) >= 0.02

    order = rng.permutation(total)
    frame = pd.DataFrame(
        {
            "applicant_id": [f"A{i:06d}" for i in range(1, total + 1)],
            "recruit_province": recruit_province[order],
            "degree": degree[order],
            "major_class": major[order],
            **{f"pref_{j + 1}": prefs[order, j] for j in range(5)},
            "home_county_code": np.concatenate(home_col)[order],
            "home_lon": np.full(total, np.nan),
            "home_lat": np.full(total, np.nan),
            "preferred_categories": preferred[order].astype(str),
            "term_years": term[order].astype(np.int64),
            "health_ok": health[order],
        },
        columns=list(APPLICANT_COLUMNS),
    )
    return frame


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
