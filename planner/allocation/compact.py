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

:func:`build_compact_network` builds the network (:class:`CompactNetwork`) from the named
areas and tier segments of :mod:`planner.allocation.compact_segments`;
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
)
from planner.allocation.compact_segments import (
    DEGREE_RADIX,
    MAJOR_RADIX,
    HomeProvinces,
    NamedAreas,
    TierSegments,
    home_provinces,
    named_areas,
    tier_segments,
    usable_counties,
)
from planner.allocation.flow import solve_flow
from planner.allocation.key_packing import KeyPacking
from planner.allocation.network import Hubs
from planner.allocation.problem import AllocationProblem
from planner.scenario import Weights

PREFERENCE_HUB = KeyPacking(("province tiers", "major", "degree"), (MAJOR_RADIX, DEGREE_RADIX))
"""A preference hub: the tiers of a named province's counties from a home, major, degree."""


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


def solve_compact_flow(problem: AllocationProblem, builder: ArcBuilder) -> CompactFlow:
    """Solve the relaxation (A3 seats and A4 left out) on the compact network.

    Among its optimal flows it takes one that leans to bachelors as A4 counts them (a
    non-bachelor weighs ``n``, a bachelor ``n - d`` for the share ``n / d``), so that the
    relaxed optimum keeps A4 whenever one of the optimal flows does; this for the recruiting
    provinces whose applicants, all placed, would break A4.
    """
    net = build_compact_network(problem, builder)
    result = solve_flow(problem, net.direct, net.hubs, tiebreak=risky_tiebreak(problem))
    arcs = split_hubs(builder, net, result.hub_in, result.hub_out, result.direct, result.hub_mid)
    return CompactFlow(result.objective, arcs, net, result.from_previous)


def risky_tiebreak(problem: AllocationProblem) -> np.ndarray | None:
    """The tie-break of :func:`solve_compact_flow`: each applicant's A4 weight where his
    recruiting province, all placed, would break A4 (only there can A4 bind; the tie-break
    costs time, the solver's costs grow, so the others go without); None when there is no
    such province."""
    weight = share_weight(problem)
    has_r = problem.app_r >= 0
    pool = np.bincount(
        problem.app_r[has_r], weights=weight[has_r], minlength=len(problem.recruit_code)
    )
    risky = pool > 0
    return np.where(has_r & risky[np.maximum(problem.app_r, 0)], weight, 0) if risky.any() else None


def share_weight(problem: AllocationProblem) -> np.ndarray:
    """Each applicant's coefficient in the A4 row ``n x placed - d x bachelors <= 0`` of his
    recruiting province (share ``n / d``): ``n`` for a non-bachelor, ``n - d`` for a bachelor."""
    share = lp.share_fraction(problem.rules.undergraduate_min_share)
    return np.where(problem.app_bachelor, share.numerator - share.denominator, share.numerator)


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


def build_compact_network(problem: AllocationProblem, builder: ArcBuilder) -> CompactNetwork:
    """The network of the module docstring for every eligible pair of ``problem``."""
    direct = _keep_arcs(problem, builder)
    counties = usable_counties(problem)
    named = named_areas(problem, counties)
    if len(named.a) == 0:
        return CompactNetwork(_no_hubs(), direct)
    homes, home_of = np.unique(
        np.stack([problem.app_home_lon, problem.app_home_lat], axis=1), axis=0, return_inverse=True
    )
    home_of = home_of.reshape(-1)
    provinces = home_provinces(named, home_of)
    seg = tier_segments(problem, counties, named, homes, home_of, provinces)
    county_in = _county_hub_arcs(problem, named, seg, home_of)
    prefs = _preference_hub_arcs(problem, named, seg, home_of, provinces)
    return CompactNetwork(_hubs(problem, seg, county_in, prefs), direct)


def _keep_arcs(problem: AllocationProblem, builder: ArcBuilder) -> Arcs:
    """The direct arcs: each previous volunteer's previous post (term 6), each assign pin's
    post, and every eligible post of an applicant with a forbidden pair (pins; he has no hub
    arcs)."""
    a_parts, p_parts = [], []
    for post in (problem.app_prev_post, problem.pinned_post):
        keep = post >= 0
        a_parts.append(np.flatnonzero(keep).astype(np.int64))
        p_parts.append(post[keep].astype(np.int64))
    if len(problem.pin_forbid):
        pinned = builder.arcs(problem.pin_restricted)
        a_parts.append(pinned.a)
        p_parts.append(pinned.p)
    keys = np.unique(np.concatenate(a_parts) * max(problem.n_posts, 1) + np.concatenate(p_parts))
    return builder.arcs_for_pairs(keys // max(problem.n_posts, 1), keys % max(problem.n_posts, 1))


def _no_hubs() -> Hubs:
    """The hub layer of a problem where nobody names an eligible area."""
    none = np.zeros(0, dtype=np.int64)
    return Hubs(0, 0, none, none, np.zeros(0), none, none, np.zeros(0), none, none, np.zeros(0))


def _major(problem: AllocationProblem) -> np.ndarray:
    """Each applicant's major class as its index in :data:`planner.scenario.MAJOR_CLASSES`."""
    return np.log2(problem.app_major_bit).astype(np.int64)


def _rank_cost(w: Weights, rank: np.ndarray) -> np.ndarray:
    """The rank part of an arc's cost (term 3)."""
    return np.where(
        rank == OUTSIDE_RANK, w.outside_preference, w.preference_rank * (rank - 1)
    ).astype(float)


def _tier_cost(problem: AllocationProblem, seg: TierSegments, at: np.ndarray, j: int) -> np.ndarray:
    """The subsidy part of an arc's cost (term 5) to tier class ``j`` of the segments ``at``."""
    return problem.weights.transport_subsidy_per_100cny * seg.cny[seg.low[at] + j] / 100.0


class _HubArcs(NamedTuple):
    """Arcs into county hubs, one array per tier class: their tails, hub keys and costs."""

    tail: list[np.ndarray]
    key: list[np.ndarray]
    cost: list[np.ndarray]


def _county_hub_arcs(
    problem: AllocationProblem, named: NamedAreas, seg: TierSegments, home_of: np.ndarray
) -> _HubArcs:
    """applicant -> county hub (pattern, tier class, major, degree) for a named county: one
    arc per tier class its posts fall in from the applicant's home."""
    major = _major(problem)
    cty = named.by_county
    ca, c_rank = named.a[cty], named.rank[cty]
    c_seg = seg.find(home_of[ca], named.m_flat[named.m_start[named.area[cty]]])
    arcs = _HubArcs([], [], [])
    for j in range(len(seg.cny)):
        has = np.flatnonzero(seg.classes[c_seg] & (1 << j))
        at, ah = c_seg[has], ca[has]
        arcs.tail.append(ah)
        arcs.key.append(seg.hub_key(at, j, major[ah], problem.app_degree[ah]))
        arcs.cost.append(_rank_cost(problem.weights, c_rank[has]) + _tier_cost(problem, seg, at, j))
    return arcs


class _PreferenceArcs(NamedTuple):
    """applicant -> preference hub arcs, and the preference hubs' arcs to county hubs."""

    a: np.ndarray
    hub: np.ndarray
    cost: np.ndarray
    n_hubs: int
    to_county_hubs: _HubArcs


def _preference_hub_arcs(
    problem: AllocationProblem,
    named: NamedAreas,
    seg: TierSegments,
    home_of: np.ndarray,
    provinces: HomeProvinces,
) -> _PreferenceArcs:
    """A named province: applicant -> preference hub (the province's tiers from the home,
    major, degree) -> county hubs of its counties."""
    major = _major(problem)
    hp_seg = seg.find(provinces.homes, provinces.counties)
    hp_pi, n_pi = _province_tier_patterns(seg, provinces, hp_seg)
    prov = named.by_province
    pa = named.a[prov]
    p_pi = hp_pi[
        np.searchsorted(provinces.keys, provinces.packing.pack(home_of[pa], named.area[prov]))
    ]
    pref_key = PREFERENCE_HUB.pack(p_pi, major[pa], problem.app_degree[pa])
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
        mid.cost.append(_tier_cost(problem, seg, at, j))
    cost = _rank_cost(problem.weights, named.rank[prov])
    return _PreferenceArcs(pa, pref_of.reshape(-1), cost, len(pref_hubs), mid)


def _province_tier_patterns(
    seg: TierSegments, provinces: HomeProvinces, hp_seg: np.ndarray
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
    problem: AllocationProblem, seg: TierSegments, county_in: _HubArcs, prefs: _PreferenceArcs
) -> Hubs:
    """The hub layer: the county hubs numbered, the arcs into them and from them to posts."""
    hubs, hub_of = np.unique(
        np.concatenate(county_in.key + prefs.to_county_hubs.key), return_inverse=True
    )
    hub_of = hub_of.reshape(-1)
    n_in = sum(len(k) for k in county_in.key)
    n_ch = len(hubs)
    hub_h, hub_p, hub_cost = _hub_post_arcs(problem, seg, hubs)
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
    problem: AllocationProblem, seg: TierSegments, hubs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """county hub -> post arcs: the posts of the hub's tier class, eligible for its major and
    degree (A5), at the post part of the cost (terms 1, 2 and 4)."""
    w = problem.weights
    hub_g, hub_j, hub_m, hub_d = seg.hub_packing.unpack(hubs)
    g_seg = seg.pattern_rep[hub_g]
    n_per_hub = seg.length[g_seg]
    hub_h = np.repeat(np.arange(len(hubs)), n_per_hub)
    at = segments(seg.bounds[g_seg], n_per_hub)
    hub_p = seg.posts[at]
    req = problem.post_req_mask[hub_p]
    elig = (
        (seg.rel[at] == hub_j[hub_h])
        & ((req == 0) | ((req & (1 << hub_m[hub_h])) != 0))
        & (hub_d[hub_h] >= problem.post_min_degree[hub_p])
    )
    hub_h, hub_p = hub_h[elig], hub_p[elig]
    misfit = (problem.post_fit_mask[hub_p] & (1 << hub_m[hub_h])) == 0
    hub_cost = (
        -w.quota_unfilled - w.relay_empty * problem.post_relay[hub_p] + w.major_mismatch * misfit
    )
    return hub_h, hub_p, hub_cost
