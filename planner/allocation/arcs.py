"""Eligible (applicant, post) pairs and what each placement adds to the objective.

Every objective term of section 2 is linear in the placements, so a plan's objective is
``constant + sum of arc costs`` (see :meth:`AllocationProblem.constant`):

- term 1: placing on a relay post removes one empty relay seat: ``-relay_empty``;
- term 2: every placement fills one unit of its county's quota (A2 keeps placements within
  the quota): ``-quota_unfilled``;
- term 3: ``preference_rank x (rank - 1)``, or ``outside_preference`` outside the preferences;
- term 4: ``major_mismatch`` when the major class does not fit the category;
- term 5: ``transport_subsidy_per_100cny x subsidy / 100``;
- term 6: keeping a volunteer of the previous plan on his post saves ``replan_move``.

Eligibility (A3, A5): the applicant passed the health check, the post's service province is
paired with the applicant's recruiting province, majors and degree qualify, and the post's
county or province is among the preferences (unless ``allow_outside_preferences``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.allocation.problem import AllocationProblem
from planner.geo import haversine_km

OUTSIDE_RANK = 6
"""Rank given to a placement outside the five preferences."""


def segments(start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Concatenated index ranges ``start[i] .. start[i] + length[i] - 1``."""
    total = int(length.sum())
    return (
        np.repeat(start, length) + np.arange(total) - np.repeat(np.cumsum(length) - length, length)
    )


@dataclass(frozen=True, slots=True)
class Arcs:
    """Eligible pairs, sorted by applicant then post."""

    a: np.ndarray
    p: np.ndarray
    rank: np.ndarray
    mismatch: np.ndarray
    km: np.ndarray
    subsidy_cny: np.ndarray
    cost: np.ndarray

    def __len__(self) -> int:
        return len(self.a)

    def take(self, idx: np.ndarray) -> Arcs:
        """The arcs at ``idx``."""
        return Arcs(*(getattr(self, f)[idx] for f in Arcs.__slots__))

    @staticmethod
    def concat(parts: list[Arcs]) -> Arcs:
        """Concatenation of several arc sets."""
        return Arcs(*(np.concatenate([getattr(p, f) for p in parts]) for f in Arcs.__slots__))


def transport_tier(problem: AllocationProblem, km: np.ndarray) -> np.ndarray:
    """Index of each distance's transport tier (2.4): 0 below every tier, else 1 + the tier
    whose lower bound is the largest one not above the distance."""
    tiers = np.asarray(problem.rules.transport_tiers_km, dtype=float)
    return np.searchsorted(tiers, km, side="right")


def tier_cny(problem: AllocationProblem) -> np.ndarray:
    """Yearly transport subsidy in CNY of each tier index of :func:`transport_tier`."""
    return np.concatenate([[0], np.asarray(problem.rules.transport_tiers_cny, dtype=np.int64)])


def transport_subsidy(problem: AllocationProblem, km: np.ndarray) -> np.ndarray:
    """Yearly transport subsidy in CNY for each distance (2.4): the tier whose lower bound is
    the largest one not above the distance; 0 below every tier."""
    return tier_cny(problem)[transport_tier(problem, km)]


class ArcBuilder:
    """Enumerates eligible arcs for any subset of applicants, without building them all."""

    def __init__(self, problem: AllocationProblem) -> None:
        self.problem = problem
        pr = problem
        usable = np.flatnonzero(pr.post_usable)
        self._post_province = np.asarray([str(c)[:2] + "0000" for c in pr.post_county])
        # posts grouped by area: every county and every province code maps to a slice
        county = pr.post_county[usable].astype(str)
        province = np.asarray([c[:2] + "0000" for c in county])
        self._area: dict[str, tuple[int, int]] = {}
        chunks: list[np.ndarray] = []
        offset = 0
        for codes in (county, province):
            order = np.argsort(codes, kind="stable")
            keys, starts, counts = np.unique(codes[order], return_index=True, return_counts=True)
            for k, st, n in zip(keys, starts, counts, strict=True):
                self._area[str(k)] = (offset + int(st), int(n))
            chunks.append(usable[order])
            offset += len(order)
        self._area_posts = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        # service provinces paired with each recruiting province, for outside placements
        self._paired_areas: list[list[str]] = [
            [str(pr.service_code[s]) for s in np.flatnonzero(row >= 0)] for row in pr.pair_index
        ]

    def _expand(self, apps: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(applicant, post) for every post in the area each applicant names."""
        uniq, inv = np.unique(codes, return_inverse=True)
        start = np.zeros(len(uniq), dtype=np.int64)
        length = np.zeros(len(uniq), dtype=np.int64)
        for i, code in enumerate(uniq):
            st, n = self._area.get(str(code), (0, 0))
            start[i], length[i] = st, n
        lens = length[inv]
        total = int(lens.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.repeat(apps, lens), self._area_posts[segments(start[inv], lens)]

    def arcs(self, apps: np.ndarray) -> Arcs:
        """All eligible arcs of the applicants ``apps`` with their exact costs."""
        pr = self.problem
        apps = np.asarray(apps, dtype=np.int64)
        parts_a: list[np.ndarray] = []
        parts_p: list[np.ndarray] = []
        for j in range(pr.app_prefs.shape[1]):
            codes = pr.app_prefs[apps, j]
            named = codes != ""
            a, p = self._expand(apps[named], codes[named])
            parts_a.append(a)
            parts_p.append(p)
        if pr.rules.allow_outside_preferences:
            for a0 in apps:
                r = pr.app_r[a0]
                if r < 0:
                    continue
                for code in self._paired_areas[r]:
                    a, p = self._expand(np.asarray([a0]), np.asarray([code]))
                    parts_a.append(a)
                    parts_p.append(p)
        return self.arcs_for_pairs(np.concatenate(parts_a), np.concatenate(parts_p))

    def arcs_for_pairs(self, a: np.ndarray, p: np.ndarray) -> Arcs:
        """The eligible ones among the pairs ``(a[i], p[i])``, once each, with exact costs.

        The rank of a post is the first preference naming its county or its province.
        """
        pr = self.problem
        key = a * pr.n_posts + p
        key, first = np.unique(key, return_index=True)
        a, p = a[first], p[first]
        prefs = pr.app_prefs[a]
        match = (prefs == pr.post_county[p][:, None]) | (prefs == self._post_province[p][:, None])
        named = match.any(axis=1)
        rank = np.where(named, np.argmax(match, axis=1) + 1, OUTSIDE_RANK)
        r = pr.app_r[a]
        ok = pr.post_usable[p] & pr.app_health[a] & (r >= 0)
        if not pr.rules.allow_outside_preferences:
            ok &= named
        ok &= pr.pair_index[np.maximum(r, 0), np.maximum(pr.post_s[p], 0)] >= 0
        req = pr.post_req_mask[p]
        ok &= (req == 0) | ((req & pr.app_major_bit[a]) != 0)
        ok &= pr.app_degree[a] >= pr.post_min_degree[p]
        return self._priced(a[ok], p[ok], rank[ok])

    def _priced(self, a: np.ndarray, p: np.ndarray, rank: np.ndarray) -> Arcs:
        pr = self.problem
        w = pr.weights
        mismatch = (pr.post_fit_mask[p] & pr.app_major_bit[a]) == 0
        km = haversine_km(pr.app_home_lon[a], pr.app_home_lat[a], pr.post_lon[p], pr.post_lat[p])
        subsidy = transport_subsidy(pr, km)
        cost = (
            -w.quota_unfilled
            - w.relay_empty * pr.post_relay[p].astype(np.int64)
            + np.where(rank == OUTSIDE_RANK, w.outside_preference, w.preference_rank * (rank - 1))
            + w.major_mismatch * mismatch
            - w.replan_move * (pr.app_prev_post[a] == p)
        ).astype(float) + w.transport_subsidy_per_100cny * subsidy / 100.0
        return Arcs(a, p, rank, mismatch, km, subsidy, cost)

    def all_arcs(self, chunk: int = 4096) -> Arcs:
        """Every eligible arc (small instances; the direct formulation uses this)."""
        n = self.problem.n_applicants
        parts = [self.arcs(np.arange(i, min(i + chunk, n))) for i in range(0, n, chunk)]
        return Arcs.concat(parts) if parts else self.arcs(np.zeros(0, dtype=np.int64))
