"""Fairness of a plan: what the optimum costs in envy.

- **Wasted seat**: applicant ``i`` is eligible for post ``p``, ranks ``p``'s place above his
  own placement (or is unplaced), and ``p`` has a free open seat that every rule would let him
  take: the bucket, the service province's dispatch target, the pair's seat count and — when
  ``i`` is unplaced — his recruiting province's target and the 85% share all have room (a move
  within the same bucket, province or pair needs no extra room there).
- **Justified envy**: the same, but ``p`` is full and one of its seats is held by ``j`` whose
  major class does not fit ``p``'s category while ``i``'s does, and swapping ``i`` in for ``j``
  keeps the pair seat counts, the recruitment targets and the 85% share of both provinces.

"Ranks above" compares preference ranks (the first preference naming the county or the
province); an unplaced applicant ranks every eligible post above his (non-)placement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.allocation.arcs import ArcBuilder, Arcs
from planner.allocation.lp import Usage, share_ok, usage
from planner.allocation.problem import AllocationProblem
from planner.allocation.solver import AllocationSolution

UNPLACED_RANK = 99
CHUNK = 2_000
"""Applicants whose eligible arcs are looked at together."""


@dataclass(frozen=True, slots=True)
class Fairness:
    """Pairs (applicant, post) of each kind, as index arrays."""

    wasted_a: np.ndarray
    wasted_p: np.ndarray
    envy_a: np.ndarray
    envy_p: np.ndarray
    envy_holder: np.ndarray
    """The applicant ``j`` who holds the envied seat."""

    @property
    def wasted_applicants(self) -> int:
        return len(np.unique(self.wasted_a))

    @property
    def envious_applicants(self) -> int:
        return len(np.unique(self.envy_a))


def fairness(
    problem: AllocationProblem,
    sol: AllocationSolution,
    kept: tuple[Fairness, np.ndarray] | None = None,
) -> Fairness:
    """Find every wasted seat and every justified envy of the plan.

    ``kept``: the pairs of an earlier plan of the same problem and the applicants whose pairs
    are taken from it (those of independent parts of the pairing where both plans agree,
    whose arcs reach no other part); only the other applicants are examined."""
    used = sol.arcs
    own_rank = np.full(problem.n_applicants, UNPLACED_RANK, dtype=np.int64)
    own_rank[used.a] = used.rank
    candidates = np.flatnonzero(own_rank > 1)
    if kept is not None:
        candidates = candidates[~np.isin(candidates, kept[1])]
        return _merged(_examined(problem, sol, own_rank, candidates), *kept)
    return _examined(problem, sol, own_rank, candidates)


def _merged(found: Fairness, earlier: Fairness, reused: np.ndarray) -> Fairness:
    """``found`` and the pairs of ``earlier`` whose applicant is one of ``reused``, in
    applicant order (an applicant's pairs come from one of them, in their order)."""
    w = np.isin(earlier.wasted_a, reused)
    e = np.isin(earlier.envy_a, reused)
    wasted_a = np.concatenate([earlier.wasted_a[w], found.wasted_a])
    envy_a = np.concatenate([earlier.envy_a[e], found.envy_a])
    ow = np.argsort(wasted_a, kind="stable")
    oe = np.argsort(envy_a, kind="stable")
    return Fairness(
        wasted_a[ow],
        np.concatenate([earlier.wasted_p[w], found.wasted_p])[ow],
        envy_a[oe],
        np.concatenate([earlier.envy_p[e], found.envy_p])[oe],
        np.concatenate([earlier.envy_holder[e], found.envy_holder])[oe],
    )


def _examined(
    problem: AllocationProblem,
    sol: AllocationSolution,
    own_rank: np.ndarray,
    candidates: np.ndarray,
) -> Fairness:
    """The wasted seats and justified envy of the applicants ``candidates``."""
    used = sol.arcs
    own_post = sol.post_of
    empty = np.zeros(0, dtype=np.int64)
    if not len(candidates):
        return Fairness(empty, empty, empty, empty, empty)
    counts = usage(problem, used)
    misfit = (problem.post_fit_mask[used.p] & problem.app_major_bit[used.a]) == 0
    holders_by_post: dict[int, list[int]] = {}
    for j, q in zip(used.a[misfit].tolist(), used.p[misfit].tolist(), strict=True):
        holders_by_post.setdefault(q, []).append(j)
    has_misfit = np.zeros(problem.n_posts, dtype=bool)
    has_misfit[list(holders_by_post)] = True
    # a wasted seat is a free one, an envied seat one held by a misfit: only arcs into such
    # posts can count
    builder = ArcBuilder(problem, posts=(counts.post < problem.post_open) | has_misfit)
    found = [
        _chunk(
            problem,
            builder.arcs(chunk),
            own_post,
            own_rank,
            counts,
            holders_by_post,
            has_misfit,
        )
        for chunk in np.array_split(candidates, -(-len(candidates) // CHUNK))
    ]
    return Fairness(*(np.concatenate([f[k] for f in found]) for k in range(5)))


def _chunk(
    problem: AllocationProblem,
    arcs: Arcs,
    own_post: np.ndarray,
    own_rank: np.ndarray,
    counts: Usage,
    holders_by_post: dict[int, list[int]],
    has_misfit: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Wasted seats and justified envy among the eligible arcs of some applicants."""
    better = arcs.rank < own_rank[arcs.a]
    a, p = arcs.a[better], arcs.p[better]
    placed = own_post[a] >= 0
    own = np.maximum(own_post[a], 0)
    filled, bucket_used, s_used = counts.post, counts.bucket, counts.service
    r_used, r_bach, pair_used = counts.recruit, counts.recruit_bachelors, counts.pair

    r = problem.app_r[a]
    pair = problem.pair_index[r, problem.post_s[p]]
    own_pair = np.where(placed, problem.pair_index[r, problem.post_s[own]], -1)
    b = problem.post_bucket[p]
    bucket_room = (bucket_used[b] < problem.bucket_cap[b]) | (
        placed & (problem.post_bucket[own] == b)
    )
    service_room = (s_used[problem.post_s[p]] < problem.service_cap[problem.post_s[p]]) | (
        placed & (problem.post_s[own] == problem.post_s[p])
    )
    pair_room = (pair_used[pair] < problem.pair_cap[pair]) | (own_pair == pair)
    bach = problem.app_bachelor[a]
    join_ok = (r_used[r] < problem.recruit_cap[r]) & share_ok(
        problem, r_used[r] + 1, r_bach[r] + bach
    )
    newcomer_ok = placed | join_ok
    free = filled[p] < problem.post_open[p]
    wasted = free & bucket_room & service_room & pair_room & newcomer_ok

    # justified envy: p full, held by a misfit j, i fits
    fits_i = (problem.post_fit_mask[p] & problem.app_major_bit[a]) != 0
    full = ~free & fits_i & has_misfit[p]
    env_a: list[int] = []
    env_p: list[int] = []
    env_j: list[int] = []
    for k in np.flatnonzero(full).tolist():
        q = int(p[k])
        for j in holders_by_post.get(q, []):
            i = int(a[k])
            ri, rj = int(problem.app_r[i]), int(problem.app_r[j])
            pair_i = int(pair[k])
            if ri != rj and pair_used[pair_i] >= problem.pair_cap[pair_i] and own_pair[k] != pair_i:
                continue
            # counts after the swap: i in at q (leaving his own post), j out
            placed_i, bach_i = int(r_used[ri]), int(r_bach[ri])
            if not placed[k]:
                placed_i += 1
                bach_i += int(problem.app_bachelor[i])
            if ri == rj:
                placed_i -= 1
                bach_i -= int(problem.app_bachelor[j])
            elif placed_i > problem.recruit_cap[ri]:
                continue
            if not share_ok(problem, placed_i, bach_i):
                continue
            if ri != rj:
                placed_j = int(r_used[rj]) - 1
                bach_j = int(r_bach[rj]) - int(problem.app_bachelor[j])
                if not share_ok(problem, placed_j, bach_j):
                    continue
            env_a.append(i)
            env_p.append(q)
            env_j.append(j)
            break
    return (
        a[wasted],
        p[wasted],
        np.asarray(env_a, dtype=np.int64),
        np.asarray(env_p, dtype=np.int64),
        np.asarray(env_j, dtype=np.int64),
    )
