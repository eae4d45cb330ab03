"""The relaxed allocation flow on a compact network, for instances too big to enumerate.

An arc's cost splits into an applicant-county part and a post part::

    cost(a, p) = [w3 (rank - 1) + w5 subsidy(a, p) / 100]  +  [-w2 - w1 relay(p) + w4 misfit(m, p)]

Eligibility and the second part depend on the post and on the applicant's major ``m`` and
degree ``d`` only. The first part depends on the transport tier of the post from ``a``'s
home, and within a county only on which tier class each post falls in: the *pattern* of the
county from that home (all posts in one tier for most homes; a near and a far part where a
tier boundary crosses the county). So the network routes

    applicant a -> county hub (pattern g of county c, tier class j, m, d) -> post p of class j in g

with one applicant arc per named county and tier class present, and hubs x posts on the other
side, instead of applicants x posts. A named province goes through one more hub, shared by
every applicant whose home sees the province's posts in the same tiers and who has the same
``m`` and ``d``::

    applicant a -> preference hub (the province's tiers from the home, m, d)
                -> county hubs of the province's counties (the tier's subsidy) -> posts

so that a province's counties are listed once per such hub, not once per applicant. The rank
is paid on the applicant's arc; an applicant who names a county and its province reaches it
both ways, and the flow takes the cheaper. Outside placements (``allow_outside_preferences``)
are named provinces at the outside rank. Keeping a previous volunteer on his post (term 6)
adds one direct arc. With A3 pair seats and A4 relaxed, as in
:mod:`planner.allocation.network`, its optimum is a lower bound; a flow through the hubs is
split into (applicant, post) pairs in any order, since every pairing of a hub's in- and
out-flow costs the same (any pairing's true cost is at most the paths' cost, and the paths'
cost is the least there is, so they are equal).

:func:`build_compact_network` builds the network (:class:`CompactNetwork`);
:func:`solve_compact_flow` solves it (:class:`CompactFlow`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from planner.allocation import lp
from planner.allocation.arcs import (
    OUTSIDE_RANK,
    ArcBuilder,
    Arcs,
    segments,
    tier_cny,
    transport_tier,
)
from planner.allocation.flow import solve_flow
from planner.allocation.keys import KeyPacking, field_radix
from planner.allocation.network import Hubs
from planner.allocation.problem import AllocationProblem
from planner.geo import haversine_km, is_province_code, provinces_of
from planner.scenario import DEGREES, MAJOR_CLASSES, Weights

MAJOR_RADIX = field_radix("major classes", len(MAJOR_CLASSES), bits=4)
"""The major-class field of a hub key (:data:`planner.scenario.MAJOR_CLASSES`)."""
DEGREE_RADIX = field_radix("degrees", len(DEGREES), bits=3)
"""The degree field of a hub key (:data:`planner.scenario.DEGREES`)."""
RANK_RADIX = field_radix("preference ranks", OUTSIDE_RANK + 1, bits=3)
"""The rank field of a preference key (1 .. :data:`~planner.allocation.arcs.OUTSIDE_RANK`)."""
PREFERENCE_HUB = KeyPacking(("province tiers", "major", "degree"), (MAJOR_RADIX, DEGREE_RADIX))
"""A preference hub: the tiers of a named province's counties from a home, major, degree."""


def _county_hub_packing(n_tiers: int) -> KeyPacking:
    """A county hub: the tier pattern of a county from a home, a tier class in it, major,
    degree."""
    return KeyPacking(
        ("tier pattern", "tier class", "major", "degree"), (n_tiers, MAJOR_RADIX, DEGREE_RADIX)
    )


@dataclass(frozen=True, slots=True)
class CompactNetwork:
    """The hub network of one problem and the pair (A3) of each applicant -> hub arc."""

    hubs: Hubs
    direct: Arcs
    """Exact arcs: a previous volunteer's post (term 6)."""

    @property
    def n_arcs(self) -> int:
        return len(self.direct) + len(self.hubs.in_a) + len(self.hubs.mid_to) + len(self.hubs.out_p)


@dataclass(frozen=True, slots=True)
class CompactFlow:
    """The relaxed optimum: its value (a lower bound) and its arcs as (applicant, post) pairs."""

    objective: float
    arcs: Arcs
    network: CompactNetwork
    from_previous: bool = False
    """Reached from the previous plan (a re-plan), not from scratch."""


def solve_compact_flow(pr: AllocationProblem, builder: ArcBuilder) -> CompactFlow:
    """Solve the relaxation (A3 seats and A4 left out) on the compact network.

    Among its optimal flows it takes one that leans to bachelors as A4 counts them (a
    non-bachelor weighs ``n``, a bachelor ``n - d`` for the share ``n / d``), so that the
    relaxed optimum keeps A4 whenever one of the optimal flows does; this for the recruiting
    provinces whose applicants, all placed, would break A4.
    """
    net = build_compact_network(pr, builder)
    result = solve_flow(pr, net.direct, net.hubs, tiebreak=risky_tiebreak(pr))
    arcs = split_hubs(builder, net, result.hub_in, result.hub_out, result.direct, result.hub_mid)
    return CompactFlow(result.objective, arcs, net, result.from_previous)


def risky_tiebreak(pr: AllocationProblem) -> np.ndarray | None:
    """The tie-break of :func:`solve_compact_flow`: each applicant's A4 weight where his
    recruiting province, all placed, would break A4 (only there can A4 bind; the tie-break
    costs time, the solver's costs grow, so the others go without); None when there is no
    such province."""
    weight = share_weight(pr)
    has_r = pr.app_r >= 0
    pool = np.bincount(pr.app_r[has_r], weights=weight[has_r], minlength=len(pr.recruit_code))
    risky = pool > 0
    return np.where(has_r & risky[np.maximum(pr.app_r, 0)], weight, 0) if risky.any() else None


def share_weight(pr: AllocationProblem) -> np.ndarray:
    """Each applicant's coefficient in the A4 row ``n x placed - d x bachelors <= 0`` of his
    recruiting province (share ``n / d``): ``n`` for a non-bachelor, ``n - d`` for a bachelor."""
    share = lp.share_fraction(pr.rules.undergraduate_min_share)
    return np.where(pr.app_bachelor, share.numerator - share.denominator, share.numerator)


def split_hubs(
    builder: ArcBuilder,
    net: CompactNetwork,
    hub_in: np.ndarray,
    hub_out: np.ndarray,
    direct: np.ndarray,
    hub_mid: np.ndarray,
) -> Arcs:
    """A flow on the network as (applicant, post) arcs: at each hub, the units coming in
    (each carrying its applicant) are paired with the units going out in any order, since
    every pairing costs the same; preference hubs first, then county hubs."""
    hubs = net.hubs
    unit_a = hubs.in_a[hub_in > 0]
    unit_hub = hubs.in_hub[hub_in > 0]
    # through a preference hub: its applicants leave on its arcs to county hubs
    through = unit_hub >= hubs.n_county
    order_in = np.argsort(unit_hub[through], kind="stable")
    mid_from = np.repeat(hubs.mid_from, hub_mid)
    order_mid = np.argsort(mid_from, kind="stable")
    moved_a = unit_a[through][order_in]
    moved_to = np.repeat(hubs.mid_to, hub_mid)[order_mid]
    unit_a = np.concatenate([unit_a[~through], moved_a])
    unit_hub = np.concatenate([unit_hub[~through], moved_to])
    order_in = np.argsort(unit_hub, kind="stable")
    posts_out = np.repeat(hubs.out_p, hub_out)
    order_out = np.argsort(np.repeat(hubs.out_hub, hub_out), kind="stable")
    pairs_a = np.concatenate([unit_a[order_in], net.direct.a[direct > 0]])
    pairs_p = np.concatenate([posts_out[order_out], net.direct.p[direct > 0]])
    return builder.arcs_for_pairs(pairs_a, pairs_p)


def _preferences(
    pr: AllocationProblem, county_codes: np.ndarray, county_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
    """Every eligible (applicant, named area, rank): the areas are the preference codes, and
    with ``allow_outside_preferences`` every paired service province at the outside rank.

    Returns the applicant, rank and area of each, the counties of each area and whether the
    area is a province. Health (A5) and the pairing (A3) are applied here."""
    prefs = pr.app_prefs
    filled = np.flatnonzero(prefs.reshape(-1) != "")
    pref_a = filled // prefs.shape[1]
    pref_rank = filled % prefs.shape[1] + 1
    pref_code = prefs.reshape(-1)[filled].astype(str)
    if pr.rules.allow_outside_preferences:
        r_of, s_of = np.nonzero(pr.pair_index >= 0)
        by_r = np.searchsorted(r_of, pr.app_r, side="right") - np.searchsorted(r_of, pr.app_r)
        first = np.searchsorted(r_of, pr.app_r)
        out_a = np.repeat(np.arange(pr.n_applicants), np.where(pr.app_r >= 0, by_r, 0))
        at = segments(first, np.where(pr.app_r >= 0, by_r, 0))
        pref_a = np.concatenate([pref_a, out_a])
        pref_rank = np.concatenate([pref_rank, np.full(len(out_a), OUTSIDE_RANK)])
        pref_code = np.concatenate([pref_code, pr.service_code[s_of[at]].astype(str)])
    codes, code_id = np.unique(pref_code, return_inverse=True)
    county_prov = provinces_of(county_codes)
    is_province = np.asarray([is_province_code(c) for c in codes.tolist()], dtype=bool)
    members = [
        np.flatnonzero((county_prov if prov else county_codes) == code)
        for code, prov in zip(codes.tolist(), is_province.tolist(), strict=True)
    ]
    code_s = np.asarray([int(county_s[m[0]]) if len(m) else -1 for m in members], dtype=np.int64)
    code_id = code_id.reshape(-1)
    r = pr.app_r[pref_a]
    s = code_s[code_id]
    ok = pr.app_health[pref_a] & (r >= 0) & (s >= 0)
    ok &= pr.pair_index[np.maximum(r, 0), np.maximum(s, 0)] >= 0
    if len(pr.pin_forbid):  # an applicant with a forbidden pair has direct arcs only
        ok &= ~np.isin(pref_a, pr.pin_restricted)
    # an applicant who names an area twice (a county and, again, outside) keeps the best rank
    named = KeyPacking(("applicant", "area", "rank"), (max(len(codes), 1), RANK_RADIX))
    key = named.pack(pref_a[ok], code_id[ok], pref_rank[ok])
    key.sort()
    a, area, rank = named.unpack(key)
    once = np.ones(len(key), dtype=bool)
    once[1:] = (a[1:] != a[:-1]) | (area[1:] != area[:-1])
    return a[once], rank[once], area[once], members, is_province


def build_compact_network(pr: AllocationProblem, builder: ArcBuilder) -> CompactNetwork:
    """The network of the module docstring for every eligible pair of ``pr``."""
    direct = _keep_arcs(pr, builder)
    counties = _usable_counties(pr)
    named = _named_areas(pr, counties)
    if len(named.a) == 0:
        return CompactNetwork(_no_hubs(), direct)
    homes, home_of = np.unique(
        np.stack([pr.app_home_lon, pr.app_home_lat], axis=1), axis=0, return_inverse=True
    )
    home_of = home_of.reshape(-1)
    provinces = _home_provinces(named, home_of)
    seg = _segments(pr, counties, named, homes, home_of, provinces)
    county_in = _county_hub_arcs(pr, named, seg, home_of)
    prefs = _preference_hub_arcs(pr, named, seg, home_of, provinces)
    return CompactNetwork(_hubs(pr, seg, county_in, prefs), direct)


def _keep_arcs(pr: AllocationProblem, builder: ArcBuilder) -> Arcs:
    """The direct arcs: each previous volunteer's previous post (term 6), and every eligible
    post of an applicant with a forbidden pair (pins; he has no hub arcs)."""
    keep = pr.app_prev_post >= 0
    a = np.flatnonzero(keep).astype(np.int64)
    p = pr.app_prev_post[keep].astype(np.int64)
    if len(pr.pin_forbid):
        pinned = builder.arcs(pr.pin_restricted)
        a, p = np.concatenate([a, pinned.a]), np.concatenate([p, pinned.p])
    return builder.arcs_for_pairs(a, p)


def _no_hubs() -> Hubs:
    """The hub layer of a problem where nobody names an eligible area."""
    none = np.zeros(0, dtype=np.int64)
    return Hubs(0, 0, none, none, np.zeros(0), none, none, np.zeros(0), none, none, np.zeros(0))


@dataclass(frozen=True, slots=True)
class _Counties:
    """The counties with usable posts, and their posts grouped county by county."""

    codes: np.ndarray
    s: np.ndarray
    """Service-province index of each county."""
    posts: np.ndarray
    """The usable posts, county after county."""
    start: np.ndarray
    length: np.ndarray
    """Each county's posts are ``posts[start : start + length]``."""


def _usable_counties(pr: AllocationProblem) -> _Counties:
    """The counties of the usable posts, with their service provinces and posts."""
    usable = np.flatnonzero(pr.post_usable)
    codes, post_county_idx = np.unique(pr.post_county[usable].astype(str), return_inverse=True)
    n_c = len(codes)
    county_s = np.zeros(n_c, dtype=np.int64)
    county_s[post_county_idx] = pr.post_s[usable]
    length = np.bincount(post_county_idx, minlength=n_c)
    return _Counties(
        codes=codes,
        s=county_s,
        posts=usable[np.argsort(post_county_idx, kind="stable")],
        start=np.cumsum(length) - length,
        length=length,
    )


@dataclass(frozen=True, slots=True)
class _Named:
    """Every eligible (applicant, named area, rank), and the counties of each named area."""

    a: np.ndarray
    rank: np.ndarray
    area: np.ndarray
    is_province: np.ndarray
    """Whether each area is a province."""
    m_start: np.ndarray
    m_len: np.ndarray
    m_flat: np.ndarray
    """The counties of area ``k`` are ``m_flat[m_start[k] : m_start[k] + m_len[k]]``."""

    @property
    def by_province(self) -> np.ndarray:
        """Whether each (applicant, area) names a province."""
        return self.is_province[self.area]

    @property
    def by_county(self) -> np.ndarray:
        """Whether each (applicant, area) names a county with usable posts."""
        return ~self.by_province & (self.m_len[self.area] > 0)


def _named_areas(pr: AllocationProblem, counties: _Counties) -> _Named:
    """:func:`_preferences` with the counties of each area in flat arrays."""
    a, rank, area, members, is_province = _preferences(pr, counties.codes, counties.s)
    m_len = np.asarray([len(m) for m in members], dtype=np.int64)
    return _Named(
        a=a,
        rank=rank,
        area=area,
        is_province=is_province,
        m_start=np.cumsum(m_len) - m_len,
        m_len=m_len,
        m_flat=np.concatenate([*members, np.zeros(0, dtype=np.int64)]),
    )


@dataclass(frozen=True, slots=True)
class _HomeProvinces:
    """Each (home, named province) once, with the province's counties."""

    packing: KeyPacking
    keys: np.ndarray
    """Sorted (home, area) keys."""
    home: np.ndarray
    area: np.ndarray
    counties: np.ndarray
    """The counties of each (home, province), one after the other."""
    length: np.ndarray
    """How many counties each (home, province) has in ``counties``."""

    @property
    def start(self) -> np.ndarray:
        """Where each (home, province)'s counties start in ``counties``."""
        return np.cumsum(self.length) - self.length

    @property
    def homes(self) -> np.ndarray:
        """The home of each entry of ``counties``."""
        return np.repeat(self.home, self.length)


def _home_provinces(named: _Named, home_of: np.ndarray) -> _HomeProvinces:
    """The (home, province) pairs the preferences name: their counties are reached through a
    preference hub."""
    packing = KeyPacking(("home", "named area"), (len(named.m_len),))
    prov = named.by_province
    keys = np.unique(packing.pack(home_of[named.a[prov]], named.area[prov]))
    home, area = packing.unpack(keys)
    length = named.m_len[area]
    return _HomeProvinces(
        packing=packing,
        keys=keys,
        home=home,
        area=area,
        counties=named.m_flat[segments(named.m_start[area], length)],
        length=length,
    )


@dataclass(frozen=True, slots=True)
class _Segments:
    """The (home, county) segments the preferences need: the transport tier class of each of
    the county's posts from the home, and the tier pattern they make."""

    packing: KeyPacking
    keys: np.ndarray
    """Sorted (home, county) keys."""
    county: np.ndarray
    length: np.ndarray
    bounds: np.ndarray
    """Segment ``g``'s posts are ``posts[bounds[g] : bounds[g] + length[g]]``."""
    posts: np.ndarray
    rel: np.ndarray
    """Each post's tier above its segment's lowest."""
    low: np.ndarray
    """Each segment's lowest tier."""
    pattern: np.ndarray
    pattern_rep: np.ndarray
    """Each segment's tier pattern, and one segment of each pattern."""
    classes: np.ndarray
    """Each segment's set of tier classes (:func:`_tier_classes`)."""
    cny: np.ndarray
    """The transport subsidy of each tier (:func:`~planner.allocation.arcs.tier_cny`)."""
    hub_packing: KeyPacking
    """The county hubs' keys (:func:`_county_hub_packing`)."""

    def find(self, home: np.ndarray, county: np.ndarray) -> np.ndarray:
        """The segment of each (home, county)."""
        return np.searchsorted(self.keys, self.packing.pack(home, county))

    def hub_key(self, at: np.ndarray, j: int, major: np.ndarray, degree: np.ndarray) -> np.ndarray:
        """The county hub of tier class ``j`` of the segments ``at``, for major and degree."""
        return self.hub_packing.pack(self.pattern[at], np.full(len(at), j), major, degree)


def _segments(
    pr: AllocationProblem,
    counties: _Counties,
    named: _Named,
    homes: np.ndarray,
    home_of: np.ndarray,
    provinces: _HomeProvinces,
) -> _Segments:
    """The segments of the named counties and of the named provinces' counties, each with
    the transport tier of its posts from the home and the tier pattern."""
    packing = KeyPacking(("home", "county"), (len(counties.codes),))
    cty = named.by_county
    keys = np.unique(
        np.concatenate(
            [
                packing.pack(home_of[named.a[cty]], named.m_flat[named.m_start[named.area[cty]]]),
                packing.pack(provinces.homes, provinces.counties),
            ]
        )
    )
    seg_h, seg_c = packing.unpack(keys)
    # the transport tier of each of county c's posts from each home
    seg_len = counties.length[seg_c]
    posts = counties.posts[segments(counties.start[seg_c], seg_len)]
    tier = transport_tier(
        pr,
        haversine_km(
            np.repeat(homes[seg_h, 0], seg_len),
            np.repeat(homes[seg_h, 1], seg_len),
            pr.post_lon[posts],
            pr.post_lat[posts],
        ),
    )
    bounds = np.cumsum(seg_len) - seg_len
    low = np.minimum.reduceat(tier, bounds)
    rel = tier - np.repeat(low, seg_len)
    pattern, pattern_rep = _patterns(seg_c, rel, bounds, seg_len)
    cny = tier_cny(pr)
    return _Segments(
        packing=packing,
        keys=keys,
        county=seg_c,
        length=seg_len,
        bounds=bounds,
        posts=posts,
        rel=rel,
        low=low,
        pattern=pattern,
        pattern_rep=pattern_rep,
        classes=_tier_classes(rel, bounds, len(cny)),
        cny=cny,
        hub_packing=_county_hub_packing(len(cny)),
    )


def _major(pr: AllocationProblem) -> np.ndarray:
    """Each applicant's major class as its index in :data:`planner.scenario.MAJOR_CLASSES`."""
    return np.log2(pr.app_major_bit).astype(np.int64)


def _rank_cost(w: Weights, rank: np.ndarray) -> np.ndarray:
    """The rank part of an arc's cost (term 3)."""
    return np.where(
        rank == OUTSIDE_RANK, w.outside_preference, w.preference_rank * (rank - 1)
    ).astype(float)


def _tier_cost(pr: AllocationProblem, seg: _Segments, at: np.ndarray, j: int) -> np.ndarray:
    """The subsidy part of an arc's cost (term 5) to tier class ``j`` of the segments ``at``."""
    return pr.weights.transport_subsidy_per_100cny * seg.cny[seg.low[at] + j] / 100.0


class _HubArcs(NamedTuple):
    """Arcs into county hubs, one array per tier class: their tails, hub keys and costs."""

    tail: list[np.ndarray]
    key: list[np.ndarray]
    cost: list[np.ndarray]


def _county_hub_arcs(
    pr: AllocationProblem, named: _Named, seg: _Segments, home_of: np.ndarray
) -> _HubArcs:
    """applicant -> county hub (pattern, tier class, major, degree) for a named county: one
    arc per tier class its posts fall in from the applicant's home."""
    major = _major(pr)
    cty = named.by_county
    ca, c_rank = named.a[cty], named.rank[cty]
    c_seg = seg.find(home_of[ca], named.m_flat[named.m_start[named.area[cty]]])
    arcs = _HubArcs([], [], [])
    for j in range(len(seg.cny)):
        has = np.flatnonzero(seg.classes[c_seg] & (1 << j))
        at, ah = c_seg[has], ca[has]
        arcs.tail.append(ah)
        arcs.key.append(seg.hub_key(at, j, major[ah], pr.app_degree[ah]))
        arcs.cost.append(_rank_cost(pr.weights, c_rank[has]) + _tier_cost(pr, seg, at, j))
    return arcs


class _PreferenceArcs(NamedTuple):
    """applicant -> preference hub arcs, and the preference hubs' arcs to county hubs."""

    a: np.ndarray
    hub: np.ndarray
    cost: np.ndarray
    n_hubs: int
    to_county_hubs: _HubArcs


def _preference_hub_arcs(
    pr: AllocationProblem,
    named: _Named,
    seg: _Segments,
    home_of: np.ndarray,
    provinces: _HomeProvinces,
) -> _PreferenceArcs:
    """A named province: applicant -> preference hub (the province's tiers from the home,
    major, degree) -> county hubs of its counties."""
    major = _major(pr)
    hp_seg = seg.find(provinces.homes, provinces.counties)
    hp_pi, n_pi = _province_tier_patterns(seg, provinces, hp_seg)
    prov = named.by_province
    pa = named.a[prov]
    p_pi = hp_pi[
        np.searchsorted(provinces.keys, provinces.packing.pack(home_of[pa], named.area[prov]))
    ]
    pref_key = PREFERENCE_HUB.pack(p_pi, major[pa], pr.app_degree[pa])
    pref_hubs, pref_of = np.unique(pref_key, return_inverse=True)
    pref_pi, pref_m, pref_d = PREFERENCE_HUB.unpack(pref_hubs)
    pi_rep = np.zeros(n_pi, dtype=np.int64)
    pi_rep[hp_pi] = np.arange(len(provinces.keys))
    ph_rep = pi_rep[pref_pi]  # a (home, province) of each preference hub
    ph_len = provinces.length[ph_rep]
    ph_k = np.repeat(np.arange(len(pref_hubs)), ph_len)
    ph_seg = hp_seg[segments(provinces.start[ph_rep], ph_len)]
    mid = _HubArcs([], [], [])
    for j in range(len(seg.cny)):
        has = np.flatnonzero(seg.classes[ph_seg] & (1 << j))
        k, at = ph_k[has], ph_seg[has]
        mid.tail.append(k)
        mid.key.append(seg.hub_key(at, j, pref_m[k], pref_d[k]))
        mid.cost.append(_tier_cost(pr, seg, at, j))
    cost = _rank_cost(pr.weights, named.rank[prov])
    return _PreferenceArcs(pa, pref_of.reshape(-1), cost, len(pref_hubs), mid)


def _province_tier_patterns(
    seg: _Segments, provinces: _HomeProvinces, hp_seg: np.ndarray
) -> tuple[np.ndarray, int]:
    """Number the (home, province) pairs by the tiers of the province's counties from the
    home (``hp_seg``: their segments): pairs of one province with the same tiers share a
    number, and so a preference hub. Returns the numbers and how many there are."""
    hp_val = KeyPacking(("tier pattern", "lowest tier"), (len(seg.cny),)).pack(
        seg.pattern[hp_seg], seg.low[hp_seg]
    )
    hp_pi = np.zeros(len(provinces.keys), dtype=np.int64)
    start = provinces.start
    n_pi = 0
    for code in np.unique(provinces.area).tolist():
        rows = np.flatnonzero(provinces.area == code)
        width = int(provinces.length[rows[0]])
        mat = hp_val[(start[rows][:, None] + np.arange(width)[None, :]).reshape(-1)]
        _, inv = np.unique(mat.reshape(len(rows), width), axis=0, return_inverse=True)
        hp_pi[rows] = n_pi + inv.reshape(-1)
        n_pi += int(inv.max()) + 1
    return hp_pi, n_pi


def _hubs(
    pr: AllocationProblem, seg: _Segments, county_in: _HubArcs, prefs: _PreferenceArcs
) -> Hubs:
    """The hub layer: the county hubs numbered, the arcs into them and from them to posts."""
    hubs, hub_of = np.unique(
        np.concatenate(county_in.key + prefs.to_county_hubs.key), return_inverse=True
    )
    hub_of = hub_of.reshape(-1)
    n_in = sum(len(k) for k in county_in.key)
    n_ch = len(hubs)
    hub_h, hub_p, hub_cost = _hub_post_arcs(pr, seg, hubs)
    return Hubs(
        n_ch,
        prefs.n_hubs,
        np.concatenate([*county_in.tail, prefs.a]),
        np.concatenate([hub_of[:n_in], n_ch + prefs.hub]),
        np.concatenate([*county_in.cost, prefs.cost]),
        hub_h,
        hub_p,
        hub_cost,
        n_ch + np.concatenate(prefs.to_county_hubs.tail),
        hub_of[n_in:],
        np.concatenate(prefs.to_county_hubs.cost),
    )


def _hub_post_arcs(
    pr: AllocationProblem, seg: _Segments, hubs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """county hub -> post arcs: the posts of the hub's tier class, eligible for its major and
    degree (A5), at the post part of the cost (terms 1, 2 and 4)."""
    w = pr.weights
    hub_g, hub_j, hub_m, hub_d = seg.hub_packing.unpack(hubs)
    g_seg = seg.pattern_rep[hub_g]
    n_per_hub = seg.length[g_seg]
    hub_h = np.repeat(np.arange(len(hubs)), n_per_hub)
    at = segments(seg.bounds[g_seg], n_per_hub)
    hub_p = seg.posts[at]
    req = pr.post_req_mask[hub_p]
    elig = (
        (seg.rel[at] == hub_j[hub_h])
        & ((req == 0) | ((req & (1 << hub_m[hub_h])) != 0))
        & (hub_d[hub_h] >= pr.post_min_degree[hub_p])
    )
    hub_h, hub_p = hub_h[elig], hub_p[elig]
    misfit = (pr.post_fit_mask[hub_p] & (1 << hub_m[hub_h])) == 0
    hub_cost = -w.quota_unfilled - w.relay_empty * pr.post_relay[hub_p] + w.major_mismatch * misfit
    return hub_h, hub_p, hub_cost


def _tier_classes(rel: np.ndarray, bounds: np.ndarray, n_tiers: int) -> np.ndarray:
    """The tier classes of each segment's posts (``rel``, from ``bounds`` on) as a set of
    bits, bit ``j`` for class ``j``."""
    if n_tiers > 63:
        raise ValueError(f"{n_tiers} transport tiers; a set of tier classes holds at most 63")
    return np.bitwise_or.reduceat(np.left_shift(1, rel), bounds)


def _patterns(
    seg_c: np.ndarray, rel: np.ndarray, bounds: np.ndarray, seg_len: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct (county, tier classes of its posts) segments.

    Returns the pattern of each segment and one segment of each pattern. Segments are grouped
    by two polynomial hashes of their classes, then every segment is compared with its
    group's representative, so equal patterns are exact, not probable.
    """
    pos = np.arange(len(rel)) - np.repeat(bounds, seg_len)
    keys = [seg_c.astype(np.uint64)]
    for base in (np.uint64(1_000_003), np.uint64(998_244_353)):
        n = max(int(seg_len.max(initial=0)), 1)
        power = np.concatenate([np.ones(1, np.uint64), np.cumprod(np.full(n - 1, base))])
        keys.append(np.add.reduceat((rel.astype(np.uint64) + np.uint64(1)) * power[pos], bounds))
    _, pattern_rep, pattern = np.unique(
        np.stack(keys, axis=1), axis=0, return_index=True, return_inverse=True
    )
    pattern = pattern.reshape(-1)
    same = rel == rel[np.repeat(bounds[pattern_rep[pattern]], seg_len) + pos]
    if not same.all():
        raise RuntimeError("two different tier patterns share a hash; report this as a bug")
    return pattern, pattern_rep
