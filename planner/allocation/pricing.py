"""Pricing: find the eligible arcs whose reduced cost is below a threshold, without
enumerating all arcs.

An arc's reduced cost splits into a post part, an applicant part and a small pair part:

    rc(a, p) = key_m(p) + w3 (rank - 1) + w5 subsidy(a, p) / 100 - u(a) - y_pair(r(a), s(p))
    key_m(p) = w4 [m does not fit p] - w1 relay(p) - w2 - (dual of p, of its bucket, of its
               service province)

with ``m`` the applicant's major class and ``u(a)`` the duals of the applicant's own rows
(applicant, recruiting province, bachelor share). The subsidy is at least the lowest tier, so
for each preference (area, rank) of an applicant only the posts of the area whose key is below
``threshold + u(a) + y_pair - w3 (rank - 1) - w5 min_subsidy / 100`` can price out. Posts are
sorted by ``key_m`` within each area once per round, and each preference scans a prefix.

An arc that keeps an applicant on his post of the previous plan (term 6) or on his assign
pin's post costs ``replan_move`` (or the pin's bonus) less than its key says, so it may price
out below the prefix: these arcs, one per such applicant, are priced one by one
(:meth:`Pricer._keep_arcs`), in the candidates and in the Lagrangian bound alike.
"""

from __future__ import annotations

import numpy as np

from planner.allocation.arcs import OUTSIDE_RANK, ArcBuilder, Arcs, segments
from planner.allocation.problem import AllocationProblem
from planner.geo import province_of
from planner.scenario import MAJOR_CLASSES

_BIG = 1.0e7
"""Separates areas in the composite sort key (keys stay far below this)."""


class Pricer:
    """Per-area sorted post lists, rebuilt for each set of post-side duals."""

    def __init__(self, builder: ArcBuilder) -> None:
        self.builder = builder
        problem = builder.problem
        self.problem = problem
        codes = sorted(builder._area)
        self.area_id = {c: i for i, c in enumerate(codes)}
        self.area_service = np.asarray(
            [int(np.searchsorted(problem.service_code, province_of(c))) for c in codes],
            dtype=np.int64,
        )
        # (area, post) membership of every usable post
        areas: list[np.ndarray] = []
        posts: list[np.ndarray] = []
        for code, (start, n) in builder._area.items():
            areas.append(np.full(n, self.area_id[code], dtype=np.int64))
            posts.append(builder._area_posts[start : start + n])
        self.member_area = np.concatenate(areas) if areas else np.zeros(0, dtype=np.int64)
        self.member_post = np.concatenate(posts) if posts else np.zeros(0, dtype=np.int64)
        # every preference of every applicant as (applicant, area, rank)
        pa, parea, prank = [], [], []
        for j in range(problem.app_prefs.shape[1]):
            col = problem.app_prefs[:, j]
            for a in np.flatnonzero(col != "").tolist():
                area = self.area_id.get(str(col[a]))
                if area is not None:
                    pa.append(a)
                    parea.append(area)
                    prank.append(j + 1)
        if problem.rules.allow_outside_preferences:
            for a2 in range(problem.n_applicants):
                r = int(problem.app_r[a2])
                if r < 0:
                    continue
                for s in np.flatnonzero(problem.pair_index[r] >= 0):
                    area = self.area_id.get(str(problem.service_code[s]))
                    if area is not None:
                        pa.append(a2)
                        parea.append(area)
                        prank.append(OUTSIDE_RANK)
        self.pref_a = np.asarray(pa, dtype=np.int64)
        self.pref_area = np.asarray(parea, dtype=np.int64)
        self.pref_rank = np.asarray(prank, dtype=np.int64)
        major_of_bit = {1 << i: i for i in range(len(MAJOR_CLASSES))}
        self.app_major = np.asarray(
            [major_of_bit[int(b)] for b in problem.app_major_bit], dtype=np.int64
        )
        tiers = np.asarray(problem.rules.transport_tiers_km)
        cny = np.asarray(problem.rules.transport_tiers_cny)
        self.min_subsidy_cost = (
            problem.weights.transport_subsidy_per_100cny
            * (float(cny.min()) if len(cny) and tiers.min() <= 0 else 0.0)
            / 100.0
        )

    def arc_estimate(self) -> int:
        """Upper estimate of the number of eligible arcs (posts in every named area)."""
        sizes = np.asarray([self.builder._area[c][1] for c in sorted(self.builder._area)])
        return int(sizes[self.pref_area].sum()) if len(self.pref_area) else 0

    def lagrangian_bound(
        self,
        post_dual: np.ndarray,
        other_app_dual: np.ndarray,
        pair_dual: np.ndarray,
        rhs_dot: float,
    ) -> float:
        """A valid lower bound of the plan from any duals ``<= 0`` of the rows other than the
        applicant rows (Lagrangian relaxation keeping ``sum_p x[a,p] <= 1``).

        ``L = rhs_dot + sum_a min(0, min_p rc'(a, p))`` where ``rc'`` is the reduced cost
        without the applicant's own row; each minimum is bounded from below by the smallest
        key of the area (eligibility and a larger subsidy can only raise it). ``rhs_dot`` is
        the sum of right-hand side times dual over those rows. Add the plan's constant.
        """
        problem = self.problem
        w = problem.weights
        p = self.member_post
        base = (
            -w.quota_unfilled - w.relay_empty * problem.post_relay[p].astype(float) - post_dual[p]
        )
        best = np.zeros(problem.n_applicants)
        n_area = len(self.area_id)
        for m in range(len(MAJOR_CLASSES)):
            sel = self.app_major[self.pref_a] == m
            if not sel.any():
                continue
            key = base + w.major_mismatch * ((problem.post_fit_mask[p] & (1 << m)) == 0)
            area_min = np.full(n_area, np.inf)
            np.minimum.at(area_min, self.member_area, key)
            fa, farea, frank = self.pref_a[sel], self.pref_area[sel], self.pref_rank[sel]
            r = problem.app_r[fa]
            pair = problem.pair_index[np.maximum(r, 0), self.area_service[farea]]
            ydp = np.where((r >= 0) & (pair >= 0), pair_dual[np.maximum(pair, 0)], 0.0)
            rank_cost = np.where(
                frank == OUTSIDE_RANK, w.outside_preference, w.preference_rank * (frank - 1)
            )
            value = area_min[farea] + rank_cost + self.min_subsidy_cost - other_app_dual[fa] - ydp
            np.minimum.at(best, fa, np.where(np.isfinite(value), value, 0.0))
        kept, kept_rc = self._keep_arcs(post_dual, other_app_dual, pair_dual)
        np.minimum.at(best, kept.a, kept_rc)
        return float(rhs_dot + best.sum())

    def _keep_arcs(
        self, post_dual: np.ndarray, app_dual: np.ndarray, pair_dual: np.ndarray
    ) -> tuple[Arcs, np.ndarray]:
        """The eligible arcs to each applicant's previous (or assign pin's) post and their
        reduced costs: their bonus puts them below the key order of the scan."""
        problem = self.problem
        keep = problem.keep_post
        a = np.flatnonzero(keep >= 0).astype(np.int64)
        arcs = self.builder.arcs_for_pairs(a, keep[a].astype(np.int64))
        rc = _reduced_costs(problem, arcs, post_dual, app_dual, pair_dual)
        return arcs, rc

    def candidates(
        self,
        post_dual: np.ndarray,
        app_dual: np.ndarray,
        pair_dual: np.ndarray,
        threshold: float,
        max_per_applicant: int | None = None,
        max_per_preference: int | None = None,
    ) -> tuple[Arcs, np.ndarray, bool]:
        """Eligible arcs with reduced cost below ``threshold``, their reduced costs, and
        whether a preference's scan was cut at ``max_per_preference`` (then the result may
        miss arcs; a complete scan has ``max_per_preference=None``).

        Parameters
        ----------
        post_dual
            Per post: the sum of the duals of its post, bucket and service-province rows.
        app_dual
            Per applicant: the sum of the duals of its applicant, recruiting-province and
            bachelor-share rows (the latter times the applicant's coefficient).
        pair_dual
            Per pair index: the dual of its pair row (0 where unbounded).
        """
        problem = self.problem
        w = problem.weights
        p = self.member_post
        base = (
            -w.quota_unfilled - w.relay_empty * problem.post_relay[p].astype(float) - post_dual[p]
        )
        out_arcs: list[Arcs] = []
        out_rc: list[np.ndarray] = []
        truncated = False
        for m in range(len(MAJOR_CLASSES)):
            sel = self.app_major[self.pref_a] == m
            if not sel.any():
                continue
            found, cut = self._candidates_of_major(
                m, sel, base, post_dual, app_dual, pair_dual, threshold, max_per_preference
            )
            truncated |= cut
            if found is not None:
                out_arcs.append(found[0])
                out_rc.append(found[1])
        kept, kept_rc = self._keep_arcs(post_dual, app_dual, pair_dual)
        if (below := kept_rc < threshold).any():
            out_arcs.append(kept.take(np.flatnonzero(below)))
            out_rc.append(kept_rc[below])
        if not out_arcs:
            empty = self.builder.arcs_for_pairs(np.zeros(0, np.int64), np.zeros(0, np.int64))
            return empty, np.zeros(0), truncated
        arcs, rc = _once_each(Arcs.concat(out_arcs), np.concatenate(out_rc), problem.n_posts)
        if max_per_applicant is not None and len(arcs):
            arcs, rc = _cheapest_per_applicant(arcs, rc, max_per_applicant)
        return arcs, rc, truncated

    def _candidates_of_major(
        self,
        m: int,
        sel: np.ndarray,
        base: np.ndarray,
        post_dual: np.ndarray,
        app_dual: np.ndarray,
        pair_dual: np.ndarray,
        threshold: float,
        max_per_preference: int | None,
    ) -> tuple[tuple[Arcs, np.ndarray] | None, bool]:
        """:meth:`candidates` for the preferences ``sel`` of the applicants of major class
        ``m``: their arcs below ``threshold`` and reduced costs (None: none), and whether a
        scan was cut at ``max_per_preference``. ``base`` is the post part of the reduced cost
        of each area member."""
        problem = self.problem
        w = problem.weights
        p = self.member_post
        truncated = False
        fa, farea, frank = self.pref_a[sel], self.pref_area[sel], self.pref_rank[sel]
        key = base + w.major_mismatch * ((problem.post_fit_mask[p] & (1 << m)) == 0)
        order = np.lexsort((key, self.member_area))
        skey = self.member_area[order] * _BIG + key[order]
        spost = p[order]
        r = problem.app_r[fa]
        pair = problem.pair_index[np.maximum(r, 0), self.area_service[farea]]
        ydp = np.where((r >= 0) & (pair >= 0), pair_dual[np.maximum(pair, 0)], 0.0)
        rank_cost = np.where(
            frank == OUTSIDE_RANK, w.outside_preference, w.preference_rank * (frank - 1)
        )
        limit = threshold + app_dual[fa] + ydp - rank_cost - self.min_subsidy_cost + 1e-9
        lo = np.searchsorted(skey, farea * _BIG - _BIG / 2)
        hi = np.searchsorted(skey, farea * _BIG + limit, side="right")
        n = np.maximum(hi - lo, 0)
        if max_per_preference is not None:
            truncated |= bool((n > max_per_preference).any())
            n = np.minimum(n, max_per_preference)
        total = int(n.sum())
        if total == 0:
            return None, truncated
        a_rep = np.repeat(fa, n)
        posts = spost[segments(lo, n)]
        arcs = self.builder.arcs_for_pairs(a_rep, posts)
        if len(arcs) == 0:
            return None, truncated
        rc = _reduced_costs(problem, arcs, post_dual, app_dual, pair_dual)
        keep = rc < threshold
        return (arcs.take(np.flatnonzero(keep)), rc[keep]), truncated


def _reduced_costs(
    problem: AllocationProblem,
    arcs: Arcs,
    post_dual: np.ndarray,
    app_dual: np.ndarray,
    pair_dual: np.ndarray,
) -> np.ndarray:
    """Each arc's reduced cost: its cost less the duals of its post, applicant and pair rows
    (the split of :func:`planner.allocation.lp.dual_parts`)."""
    r = problem.app_r[arcs.a]
    pair = problem.pair_index[np.maximum(r, 0), problem.post_s[arcs.p]]
    pair_part = np.where((r >= 0) & (pair >= 0), pair_dual[np.maximum(pair, 0)], 0.0)
    return arcs.cost - post_dual[arcs.p] - app_dual[arcs.a] - pair_part


def _once_each(arcs: Arcs, rc: np.ndarray, n_posts: int) -> tuple[Arcs, np.ndarray]:
    """The same arc may come from two preferences: keep it once, at its least reduced cost."""
    key2 = arcs.a * n_posts + arcs.p
    order = np.lexsort((rc, key2))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key2[order][1:] != key2[order][:-1]
    idx = order[first]
    return arcs.take(idx), rc[idx]


def _cheapest_per_applicant(
    arcs: Arcs, rc: np.ndarray, max_per_applicant: int
) -> tuple[Arcs, np.ndarray]:
    """The ``max_per_applicant`` arcs of least reduced cost of each applicant."""
    order = np.lexsort((rc, arcs.a))
    a_sorted = arcs.a[order]
    starts = np.searchsorted(a_sorted, a_sorted, side="left")
    pos = np.arange(len(order)) - starts
    idx = order[pos < max_per_applicant]
    return arcs.take(idx), rc[idx]
