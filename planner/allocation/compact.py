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

from planner.allocation.arcs import ArcBuilder, Arcs, segments, tier_cny, transport_tier
from planner.allocation.flow import Hubs, network_flow
from planner.allocation.problem import AllocationProblem
from planner.geo import haversine_km


@dataclass(frozen=True, slots=True)
class CompactFlow:
    """The relaxed optimum: its value (a lower bound) and its arcs as (applicant, post) pairs."""

    objective: float
    arcs: Arcs
    n_network_arcs: int


def compact_flow(pr: AllocationProblem, builder: ArcBuilder) -> CompactFlow:
    """Solve the relaxation (A3 seats and A4 left out) on the compact network."""
    w = pr.weights
    usable = np.flatnonzero(pr.post_usable)
    county_codes, post_county_idx = np.unique(
        pr.post_county[usable].astype(str), return_inverse=True
    )
    county_of = {str(c): i for i, c in enumerate(county_codes)}
    n_c = len(county_codes)
    # applicant -> county pairs with the best rank of each (the first preference naming it)
    pa, pc, prank = [], [], []
    province_counties: dict[str, np.ndarray] = {}
    for prov in {c[:2] + "0000" for c in county_codes}:
        province_counties[prov] = np.flatnonzero(
            np.char.startswith(county_codes.astype(str), prov[:2])
        )
    prefs = pr.app_prefs
    for j in range(prefs.shape[1]):
        col = prefs[:, j]
        for code in np.unique(col[col != ""]).tolist():
            apps = np.flatnonzero(col == code)
            if code.endswith("0000"):
                cs = province_counties.get(code, np.zeros(0, dtype=np.int64))
            elif code in county_of:
                cs = np.asarray([county_of[code]])
            else:
                continue
            pa.append(np.repeat(apps, len(cs)))
            pc.append(np.tile(cs, len(apps)))
            prank.append(np.full(len(apps) * len(cs), j + 1))
    if not pa:
        return CompactFlow(
            pr.constant(), builder.arcs_for_pairs(np.zeros(0, np.int64), np.zeros(0, np.int64)), 0
        )
    a = np.concatenate(pa)
    c = np.concatenate(pc)
    rank = np.concatenate(prank)
    key = a * n_c + c
    order = np.lexsort((rank, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    a, c, rank = a[order][first], c[order][first], rank[order][first]
    # pairing (A3) and health (A5) at the county level
    r = pr.app_r[a]
    county_s = np.searchsorted(
        pr.service_code, np.asarray([cc[:2] + "0000" for cc in county_codes.tolist()])
    )
    ok = pr.app_health[a] & (r >= 0) & (pr.pair_index[np.maximum(r, 0), county_s[c]] >= 0)
    a, c, rank = a[ok], c[ok], rank[ok]
    # the transport tier of each of county c's posts from each applicant's home (one segment
    # per distinct home and county)
    order_posts = usable[np.argsort(post_county_idx, kind="stable")]
    county_len = np.bincount(post_county_idx, minlength=n_c)
    county_start = np.cumsum(county_len) - county_len
    home = np.round(pr.app_home_lon[a], 6) * 1e3 + np.round(pr.app_home_lat[a], 6)
    _, rep, hc_inv = np.unique(
        np.stack([home, c.astype(float)], axis=1), axis=0, return_index=True, return_inverse=True
    )
    hc_inv = hc_inv.reshape(-1)
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
    arc_seg = hc_inv
    in_a, in_key, in_cost = [], [], []
    cny = tier_cny(pr)
    for j in range(len(cny)):
        has = np.flatnonzero(classes[arc_seg] & (1 << j))
        seg = arc_seg[has]
        in_a.append(a[has])
        in_key.append(
            ((pattern[seg] * len(cny) + j) * 16 + major[a[has]]) * 8 + pr.app_degree[a[has]]
        )
        in_cost.append(
            w.preference_rank * (rank[has] - 1)
            + w.transport_subsidy_per_100cny * cny[seg_min[seg] + j] / 100.0
        )
    hub_a = np.concatenate(in_a)
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
    # keeping a volunteer on his previous post (term 6): one exact arc
    keep = pr.app_prev_post >= 0
    direct = builder.arcs_for_pairs(
        np.flatnonzero(keep).astype(np.int64), pr.app_prev_post[keep].astype(np.int64)
    )
    hub_arcs = Hubs(
        len(hubs), hub_a, hub_of.reshape(-1), np.concatenate(in_cost), hub_h, hub_p, hub_cost
    )
    return _solve(pr, builder, hub_arcs, direct)


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


def _solve(pr: AllocationProblem, builder: ArcBuilder, hubs: Hubs, direct: Arcs) -> CompactFlow:
    result = network_flow(pr, direct, hubs)
    # split each hub's flow into (applicant, post) pairs: sort both sides by hub
    apps_in = hubs.in_a[result.hub_in > 0]
    order_in = np.argsort(hubs.in_hub[result.hub_in > 0], kind="stable")
    posts_out = np.repeat(hubs.out_p, result.hub_out)
    order_out = np.argsort(np.repeat(hubs.out_hub, result.hub_out), kind="stable")
    pairs_a = np.concatenate([apps_in[order_in], direct.a[result.direct > 0]])
    pairs_p = np.concatenate([posts_out[order_out], direct.p[result.direct > 0]])
    n_arcs = len(direct) + len(hubs.in_a) + len(hubs.out_p)
    return CompactFlow(result.objective, builder.arcs_for_pairs(pairs_a, pairs_p), n_arcs)
