"""The relaxed allocation flow on a compact network, for instances too big to enumerate.

An arc's cost splits into an applicant-county part and a post part::

    cost(a, p) = [w3 (rank - 1) + w5 subsidy(a, p) / 100]  +  [-w2 - w1 relay(p) + w4 misfit(m, p)]

The first part is the same for every post of county ``c`` when all of ``c``'s posts lie in one
transport tier from ``a``'s home; eligibility and the second part depend on the post and on
the applicant's major ``m`` and degree ``d`` only. So the network routes

    applicant a -> hub (c, m, d) -> post p        (county c in one tier from a's home)
    applicant a -> post p                         (c straddles a tier boundary: exact arcs)

and has as many arcs as applicants x named counties plus hubs x posts, instead of applicants x
posts. Keeping a previous volunteer on his post (term 6) adds one direct arc. With A3 pair
seats and A4 relaxed, as in :mod:`planner.allocation.flow`, its optimum is a lower bound; a
flow through a hub is split into (applicant, post) pairs in any order, since every pairing of a
hub's in- and out-flow costs the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.allocation.arcs import ArcBuilder, Arcs, segments, transport_subsidy
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
    # transport tier range of each county's posts from each applicant's home
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
    km = haversine_km(
        np.repeat(pr.app_home_lon[seg_a], seg_len),
        np.repeat(pr.app_home_lat[seg_a], seg_len),
        pr.post_lon[posts],
        pr.post_lat[posts],
    )
    cny = transport_subsidy(pr, km)
    bounds = np.cumsum(seg_len) - seg_len
    lo = np.minimum.reduceat(cny, bounds)
    hi = np.maximum.reduceat(cny, bounds)
    uniform = lo[hc_inv] == hi[hc_inv]
    subsidy = lo[hc_inv]
    # hubs (county, major, degree)
    major = np.log2(pr.app_major_bit).astype(np.int64)
    hub_key = (c * 16 + major[a]) * 8 + pr.app_degree[a]
    hubs, hub_of = np.unique(hub_key[uniform], return_inverse=True)
    hub_c, hub_m, hub_d = hubs // 128, (hubs // 8) % 16, hubs % 8
    # hub -> post arcs: eligible posts of the hub's county for its major and degree
    n_per_hub = county_len[hub_c]
    hub_h = np.repeat(np.arange(len(hubs)), n_per_hub)
    hub_p = order_posts[segments(county_start[hub_c], n_per_hub)]
    req = pr.post_req_mask[hub_p]
    elig = ((req == 0) | ((req & (1 << hub_m[hub_h])) != 0)) & (
        hub_d[hub_h] >= pr.post_min_degree[hub_p]
    )
    hub_h, hub_p = hub_h[elig], hub_p[elig]
    misfit = (pr.post_fit_mask[hub_p] & (1 << hub_m[hub_h])) == 0
    hub_cost = -w.quota_unfilled - w.relay_empty * pr.post_relay[hub_p] + w.major_mismatch * misfit
    ah_cost = (
        w.preference_rank * (rank[uniform] - 1)
        + w.transport_subsidy_per_100cny * subsidy[uniform] / 100.0
    )
    # exact arcs where the county straddles a tier, and the previous post (term 6)
    cross = np.flatnonzero(~uniform)
    straddle_a = np.repeat(a[cross], county_len[c[cross]])
    straddle_p = order_posts[segments(county_start[c[cross]], county_len[c[cross]])]
    keep = pr.app_prev_post >= 0
    direct = builder.arcs_for_pairs(
        np.concatenate([straddle_a, np.flatnonzero(keep)]).astype(np.int64),
        np.concatenate([straddle_p, pr.app_prev_post[keep]]).astype(np.int64),
    )
    hub_arcs = Hubs(len(hubs), a[uniform], hub_of, ah_cost, hub_h, hub_p, hub_cost)
    return _solve(pr, builder, hub_arcs, direct)


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
