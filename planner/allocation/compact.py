"""The relaxed allocation flow on a compact network, for instances too big to enumerate.

An arc's cost splits into an applicant-county part and a post part::

    cost(a, p) = [w3 (rank - 1) + w5 subsidy(a, p) / 100]  +  [-w2 - w1 relay(p) + w4 misfit(m, p)]

Eligibility and the second part depend on the post and on the applicant's major ``m`` and
degree ``d`` only. The first part depends on the transport tier of the post from ``a``'s
home, and within a county only on which tier class each post falls in: the *pattern* of the
county from that home (all posts in one tier for most homes; a near and a far part where a
tier boundary crosses the county). So the network routes

    applicant a -> hub (pattern g of county c, tier class j, m, d) -> post p of class j in g

with one applicant arc per named county and tier class present, and hubs x posts on the other
side, instead of applicants x posts. Keeping a previous volunteer on his post (term 6) adds one direct arc. With A3 pair
seats and A4 relaxed, as in :mod:`planner.allocation.flow`, its optimum is a lower bound; a
flow through a hub is split into (applicant, post) pairs in any order, since every pairing of a
hub's in- and out-flow costs the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.allocation import lp
from planner.allocation.arcs import ArcBuilder, Arcs, segments, tier_cny, transport_tier
from planner.allocation.flow import Hubs, network_flow
from planner.allocation.problem import AllocationProblem
from planner.geo import haversine_km


@dataclass(frozen=True, slots=True)
class CompactNetwork:
    """The hub network of one problem and the pair (A3) of each applicant -> hub arc."""

    hubs: Hubs
    direct: Arcs
    """Exact arcs: a previous volunteer's post (term 6)."""
    in_pair: np.ndarray
    """Pair index of each applicant -> hub arc."""

    @property
    def n_arcs(self) -> int:
        return len(self.direct) + len(self.hubs.in_a) + len(self.hubs.out_p)


@dataclass(frozen=True, slots=True)
class CompactFlow:
    """The relaxed optimum: its value (a lower bound) and its arcs as (applicant, post) pairs."""

    objective: float
    arcs: Arcs
    network: CompactNetwork


def compact_flow(pr: AllocationProblem, builder: ArcBuilder) -> CompactFlow:
    """Solve the relaxation (A3 seats and A4 left out) on the compact network.

    Among its optimal flows it takes one that leans to bachelors as A4 counts them (a
    non-bachelor weighs ``n``, a bachelor ``n - d`` for the share ``n / d``), so that the
    relaxed optimum keeps A4 whenever one of the optimal flows does.
    """
    net = compact_network(pr, builder)
    result = network_flow(pr, net.direct, net.hubs, tiebreak=share_weight(pr))
    arcs = split_hubs(builder, net, result.hub_in, result.hub_out, result.direct)
    return CompactFlow(result.objective, arcs, net)


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
) -> Arcs:
    """A flow on the network as (applicant, post) arcs: each hub's in- and out-flow paired in
    any order, since every pairing costs the same."""
    hubs = net.hubs
    apps_in = hubs.in_a[hub_in > 0]
    order_in = np.argsort(hubs.in_hub[hub_in > 0], kind="stable")
    posts_out = np.repeat(hubs.out_p, hub_out)
    order_out = np.argsort(np.repeat(hubs.out_hub, hub_out), kind="stable")
    pairs_a = np.concatenate([apps_in[order_in], net.direct.a[direct > 0]])
    pairs_p = np.concatenate([posts_out[order_out], net.direct.p[direct > 0]])
    return builder.arcs_for_pairs(pairs_a, pairs_p)


def _named_counties(
    pr: AllocationProblem, county_codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (applicant, county) that a preference names, with the best rank naming it."""
    n_c = len(county_codes)
    prefs = pr.app_prefs
    filled = np.flatnonzero(prefs.reshape(-1) != "")
    codes, code_id = np.unique(prefs.reshape(-1)[filled], return_inverse=True)
    pref_a = filled // prefs.shape[1]
    pref_rank = filled % prefs.shape[1] + 1
    # the counties each code names: a county itself, or every county of a province
    county_prov = np.asarray([c[:2] for c in county_codes.tolist()])
    members: list[np.ndarray] = []
    for code in codes.tolist():
        if code.endswith("0000"):
            members.append(np.flatnonzero(county_prov == code[:2]))
        else:
            members.append(np.flatnonzero(county_codes == code))
    length = np.asarray([len(m) for m in members], dtype=np.int64)
    start = np.cumsum(length) - length
    flat = np.concatenate([*members, np.zeros(0, dtype=np.int64)])
    n_named = length[code_id]
    a = np.repeat(pref_a, n_named)
    c = flat[segments(start[code_id], n_named)]
    rank = np.repeat(pref_rank, n_named)
    key = (a * n_c + c) * 8 + rank
    key.sort()
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] // 8 != key[:-1] // 8
    key = key[first]
    return key // 8 // n_c, key // 8 % n_c, key % 8


def compact_network(pr: AllocationProblem, builder: ArcBuilder) -> CompactNetwork:
    """The network of the module docstring for every eligible pair of ``pr``."""
    w = pr.weights
    usable = np.flatnonzero(pr.post_usable)
    county_codes, post_county_idx = np.unique(
        pr.post_county[usable].astype(str), return_inverse=True
    )
    n_c = len(county_codes)
    a, c, rank = _named_counties(pr, county_codes)
    # pairing (A3) and health (A5) at the county level
    r = pr.app_r[a]
    county_s = np.zeros(n_c, dtype=np.int64)
    county_s[post_county_idx] = pr.post_s[usable]
    pair = pr.pair_index[np.maximum(r, 0), county_s[c]]
    ok = pr.app_health[a] & (r >= 0) & (pair >= 0)
    a, c, rank, pair = a[ok], c[ok], rank[ok], pair[ok]
    keep = pr.app_prev_post >= 0  # keeping a volunteer on his previous post (term 6)
    direct = builder.arcs_for_pairs(
        np.flatnonzero(keep).astype(np.int64), pr.app_prev_post[keep].astype(np.int64)
    )
    if len(a) == 0:
        none = np.zeros(0, dtype=np.int64)
        return CompactNetwork(
            Hubs(0, none, none, np.zeros(0), none, none, np.zeros(0)), direct, none
        )
    # the transport tier of each of county c's posts from each applicant's home (one segment
    # per distinct home and county)
    order_posts = usable[np.argsort(post_county_idx, kind="stable")]
    county_len = np.bincount(post_county_idx, minlength=n_c)
    county_start = np.cumsum(county_len) - county_len
    _, home_of = np.unique(
        np.stack([pr.app_home_lon, pr.app_home_lat], axis=1), axis=0, return_inverse=True
    )
    _, rep, arc_seg = np.unique(
        home_of.reshape(-1)[a] * n_c + c, return_index=True, return_inverse=True
    )
    arc_seg = arc_seg.reshape(-1)
    seg_a, seg_c = a[rep], c[rep]
    seg_len = county_len[seg_c]
    flat = segments(county_start[seg_c], seg_len)
    posts = order_posts[flat]
    tier = transport_tier(
        pr,
        haversine_km(
            np.repeat(pr.app_home_lon[seg_a], seg_len),
            np.repeat(pr.app_home_lat[seg_a], seg_len),
            pr.post_lon[posts],
            pr.post_lat[posts],
        ),
    )
    bounds = np.cumsum(seg_len) - seg_len
    seg_min = np.minimum.reduceat(tier, bounds)
    rel = tier - np.repeat(seg_min, seg_len)
    pattern, pattern_rep = _patterns(seg_c, rel, bounds, seg_len)
    classes = np.bitwise_or.reduceat(np.left_shift(1, rel), bounds)
    # applicant -> hub (pattern, tier class, major, degree): one arc per tier class present
    major = np.log2(pr.app_major_bit).astype(np.int64)
    in_a, in_key, in_cost, in_pair = [], [], [], []
    cny = tier_cny(pr)
    for j in range(len(cny)):
        has = np.flatnonzero(classes[arc_seg] & (1 << j))
        seg, ah = arc_seg[has], a[has]
        in_a.append(ah)
        in_key.append(((pattern[seg] * len(cny) + j) * 16 + major[ah]) * 8 + pr.app_degree[ah])
        in_cost.append(
            w.preference_rank * (rank[has] - 1)
            + w.transport_subsidy_per_100cny * cny[seg_min[seg] + j] / 100.0
        )
        in_pair.append(pair[has])
    hubs, hub_of = np.unique(np.concatenate(in_key), return_inverse=True)
    hub_g, hub_j = hubs // 128 // len(cny), (hubs // 128) % len(cny)
    hub_m, hub_d = (hubs // 8) % 16, hubs % 8
    # hub -> post arcs: the posts of the hub's tier class, eligible for its major and degree
    g_seg = pattern_rep[hub_g]
    n_per_hub = seg_len[g_seg]
    hub_h = np.repeat(np.arange(len(hubs)), n_per_hub)
    at = segments(bounds[g_seg], n_per_hub)
    hub_p = posts[at]
    req = pr.post_req_mask[hub_p]
    elig = (
        (rel[at] == hub_j[hub_h])
        & ((req == 0) | ((req & (1 << hub_m[hub_h])) != 0))
        & (hub_d[hub_h] >= pr.post_min_degree[hub_p])
    )
    hub_h, hub_p = hub_h[elig], hub_p[elig]
    misfit = (pr.post_fit_mask[hub_p] & (1 << hub_m[hub_h])) == 0
    hub_cost = -w.quota_unfilled - w.relay_empty * pr.post_relay[hub_p] + w.major_mismatch * misfit
    hub_arcs = Hubs(
        len(hubs),
        np.concatenate(in_a),
        hub_of.reshape(-1),
        np.concatenate(in_cost),
        hub_h,
        hub_p,
        hub_cost,
    )
    return CompactNetwork(hub_arcs, direct, np.concatenate(in_pair))


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
