"""Independent parts of an allocation: the connected components of the pairing (A3).

An applicant of recruiting province ``r`` can only serve in a province paired with ``r``, and
every rule (A1-A6) counts within one recruiting province, one pair or one service province.
So the recruiting and service provinces that the pairing connects, with their applicants,
posts and counties, form a problem of their own, and the plan is the union of the parts'
plans. The national tier (31 recruiting and 12 service provinces) falls into 11 parts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from planner.allocation.problem import AllocationProblem


@dataclass(frozen=True, slots=True)
class Part:
    """One component as a problem of its own, with its rows' indices in the whole problem."""

    problem: AllocationProblem
    applicants: np.ndarray
    posts: np.ndarray


def split(problem: AllocationProblem) -> list[Part]:
    """The components of the pairing that have applicants, largest first."""
    n_r, n_s = problem.pair_index.shape
    r, s = np.nonzero(problem.pair_index >= 0)
    graph = coo_matrix((np.ones(len(r)), (r, n_r + s)), shape=(n_r + n_s, n_r + n_s))
    n, label = connected_components(graph, directed=False)
    parts = [
        _restrict(problem, np.flatnonzero(label[:n_r] == k), np.flatnonzero(label[n_r:] == k))
        for k in range(n)
    ]
    parts = [p for p in parts if len(p.applicants) and len(p.posts)]
    return sorted(parts, key=lambda p: -len(p.applicants))


def _renumber(keep: np.ndarray, size: int) -> np.ndarray:
    """New index of each old index (-1 where it is not kept)."""
    new = np.full(size, -1, dtype=np.int64)
    new[keep] = np.arange(len(keep))
    return new


def _restrict(problem: AllocationProblem, rs: np.ndarray, ss: np.ndarray) -> Part:
    """The problem of recruiting provinces ``rs`` and service provinces ``ss``."""
    new_s = _renumber(ss, len(problem.service_code))
    new_r = _renumber(rs, len(problem.recruit_code))
    # counties and their buckets (A2)
    counties = np.flatnonzero(np.isin(problem.county_s, ss))
    kinds = len(problem.bucket_cap) // max(len(problem.county_code), 1)
    buckets = (counties[:, None] * kinds + np.arange(kinds)).reshape(-1)
    new_bucket = _renumber(buckets, len(problem.bucket_cap))
    new_county = _renumber(counties, len(problem.county_code))
    # posts of the service provinces, applicants of the recruiting provinces
    posts = np.flatnonzero((problem.post_s >= 0) & np.isin(problem.post_s, ss))
    new_post = _renumber(posts, problem.n_posts)
    apps = np.flatnonzero((problem.app_r >= 0) & np.isin(problem.app_r, rs))
    # pairs (A3)
    pair_index = problem.pair_index[np.ix_(rs, ss)]
    pairs = np.unique(pair_index[pair_index >= 0])
    new_pair = _renumber(pairs, len(problem.pair_cap))
    prev = problem.app_prev_post[apps]
    pin = problem.pinned_post[apps]
    sub = replace(
        problem,
        post_id=problem.post_id[posts],
        post_county=problem.post_county[posts],
        post_category=problem.post_category[posts],
        post_open=problem.post_open[posts],
        post_relay=problem.post_relay[posts],
        post_bucket=np.where(
            problem.post_bucket[posts] >= 0,
            new_bucket[np.maximum(problem.post_bucket[posts], 0)],
            -1,
        ),
        post_s=new_s[problem.post_s[posts]],
        post_req_mask=problem.post_req_mask[posts],
        post_min_degree=problem.post_min_degree[posts],
        post_fit_mask=problem.post_fit_mask[posts],
        post_lon=problem.post_lon[posts],
        post_lat=problem.post_lat[posts],
        post_high_living=problem.post_high_living[posts],
        post_usable=problem.post_usable[posts],
        post_block=problem.post_block[posts],
        post_prev_gone=problem.post_prev_gone[posts],
        bucket_county=new_county[problem.bucket_county[buckets]],
        bucket_kind=problem.bucket_kind[buckets],
        bucket_cap=problem.bucket_cap[buckets],
        county_code=problem.county_code[counties],
        county_quota=problem.county_quota[counties],
        county_barred=problem.county_barred[counties],
        service_code=problem.service_code[ss],
        service_cap=problem.service_cap[ss],
        recruit_code=problem.recruit_code[rs],
        recruit_cap=problem.recruit_cap[rs],
        pair_index=np.where(pair_index >= 0, new_pair[np.maximum(pair_index, 0)], -1),
        pair_cap=problem.pair_cap[pairs],
        applicant_id=problem.applicant_id[apps],
        app_r=new_r[problem.app_r[apps]],
        app_bachelor=problem.app_bachelor[apps],
        app_degree=problem.app_degree[apps],
        app_major_bit=problem.app_major_bit[apps],
        app_health=problem.app_health[apps],
        app_prefs=problem.app_prefs[apps],
        app_home_lon=problem.app_home_lon[apps],
        app_home_lat=problem.app_home_lat[apps],
        app_prev_post=np.where(prev >= 0, new_post[np.maximum(prev, 0)], -1),
        prev_count=int((prev >= 0).sum()),
        app_pin_post=(
            None
            if problem.app_pin_post is None
            else np.where(pin >= 0, new_post[np.maximum(pin, 0)], -1)
        ),
        pin_forbid=_part_pairs(problem, apps, new_post),
    )
    return Part(sub, apps, posts)


def _part_pairs(problem: AllocationProblem, apps: np.ndarray, new_post: np.ndarray) -> np.ndarray:
    """The forbidden pairs (pins) of a part's applicants, renumbered in the part."""
    if not len(problem.pin_forbid):
        return problem.pin_forbid
    a, p = np.divmod(problem.pin_forbid, problem.n_posts)
    new_a = np.full(problem.n_applicants, -1, dtype=np.int64)
    new_a[apps] = np.arange(len(apps))
    mine = (new_a[a] >= 0) & (new_post[p] >= 0)
    return np.sort(new_a[a[mine]] * len(np.flatnonzero(new_post >= 0)) + new_post[p[mine]])
