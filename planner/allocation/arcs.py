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
from planner.geo import haversine_km, provinces_of

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


def integral_objective(problem: AllocationProblem) -> bool:
    """Whether every plan's objective is an integer (all weights, and every tier's subsidy
    term, integral): then a proven bound may be rounded up."""
    w = problem.weights
    terms = [
        w.relay_empty,
        w.quota_unfilled,
        w.preference_rank,
        w.outside_preference,
        w.major_mismatch,
        w.replan_move,
        problem.pin_bonus,
        problem.constant(),
        *(w.transport_subsidy_per_100cny * tier_cny(problem) / 100.0).tolist(),
    ]
    return all(float(t).is_integer() for t in terms)


def transport_subsidy(problem: AllocationProblem, km: np.ndarray) -> np.ndarray:
    """Yearly transport subsidy in CNY for each distance (2.4): the tier whose lower bound is
    the largest one not above the distance; 0 below every tier."""
    return tier_cny(problem)[transport_tier(problem, km)]


class ArcBuilder:
    """Enumerates eligible arcs for any subset of applicants, without building them all."""

    def __init__(self, problem: AllocationProblem, posts: np.ndarray | None = None) -> None:
        """``posts`` (a boolean per post), if given, limits the arcs to those posts."""
        self.problem = problem
        usable = np.flatnonzero(
            problem.post_usable if posts is None else problem.post_usable & posts
        )
        self._post_province = provinces_of(problem.post_county)
        # posts grouped by area: every county and every province code maps to a slice
        county = problem.post_county[usable].astype(str)
        province = provinces_of(county)
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
            [str(problem.service_code[s]) for s in np.flatnonzero(row >= 0)]
            for row in problem.pair_index
        ]
        self._area_ok: dict[str, np.ndarray] = {}
        self._area_s: dict[str, int] = {}
        self._code_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

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
        problem = self.problem
        apps = np.asarray(apps, dtype=np.int64)
        parts_a: list[np.ndarray] = []
        parts_p: list[np.ndarray] = []
        for j in range(problem.app_prefs.shape[1]):
            codes = problem.app_prefs[apps, j]
            named = codes != ""
            a, p = self._expand(apps[named], codes[named])
            parts_a.append(a)
            parts_p.append(p)
        if problem.rules.allow_outside_preferences:
            for a0 in apps:
                r = problem.app_r[a0]
                if r < 0:
                    continue
                for code in self._paired_areas[r]:
                    a, p = self._expand(np.asarray([a0]), np.asarray([code]))
                    parts_a.append(a)
                    parts_p.append(p)
        return self.arcs_for_pairs(np.concatenate(parts_a), np.concatenate(parts_p))

    def reach(self, apps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each applicant of ``apps``: whether some post is eligible for him, and the bit
        set (bit s) of the service provinces with such a post. Eligibility within an area
        depends only on the major and the degree, so no arc is built."""
        problem = self.problem
        apps = np.asarray(apps, dtype=np.int64)
        if not self._area_ok:  # which (major, degree) each area has an eligible post for
            majors = int(np.log2(max(int(problem.app_major_bit.max(initial=1)), 1))) + 1
            degrees = int(max(problem.app_degree.max(initial=0), 0)) + 1
            bits = np.left_shift(1, np.arange(majors))
            for code, (st, n) in self._area.items():
                ps = self._area_posts[st : st + n]
                req = problem.post_req_mask[ps]
                major_ok = (req[None, :] == 0) | ((req[None, :] & bits[:, None]) != 0)
                degree_ok = problem.post_min_degree[ps][None, :] <= np.arange(degrees)[:, None]
                self._area_ok[code] = (major_ok[:, None, :] & degree_ok[None, :, :]).any(axis=2)
                self._area_s[code] = int(problem.post_s[ps[0]])
        has = np.zeros(len(apps), dtype=bool)
        provinces = np.zeros(len(apps), dtype=np.int64)
        r = problem.app_r[apps]
        major = np.log2(problem.app_major_bit[apps]).astype(np.int64)
        degree = np.maximum(problem.app_degree[apps], 0)
        ok_app = problem.app_health[apps] & (r >= 0)
        areas = [problem.app_prefs[apps, j] for j in range(problem.app_prefs.shape[1])]
        if problem.rules.allow_outside_preferences:
            most = max((len(x) for x in self._paired_areas), default=0)
            for k in range(most):
                areas.append(
                    np.asarray(
                        [
                            self._paired_areas[rr][k]
                            if rr >= 0 and k < len(self._paired_areas[rr])
                            else ""
                            for rr in r.tolist()
                        ]
                    )
                )
        for codes in areas:
            for code in np.unique(codes).tolist():
                if code not in self._area_ok:
                    continue
                i = np.flatnonzero(codes == code)
                s = self._area_s[code]
                ok = self._area_ok[code][major[i], degree[i]] & ok_app[i]
                ok &= problem.pair_index[np.maximum(r[i], 0), s] >= 0
                has[i[ok]] = True
                provinces[i[ok]] |= 1 << s
        return has, provinces

    def _codes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The preferences, each post's county and each post's province as integer codes
        (one numbering; a preference naming no post's area gets -1)."""
        if self._code_cache is None:
            problem = self.problem
            areas = np.unique(
                np.concatenate([problem.post_county.astype(str), self._post_province])
            )
            flat = problem.app_prefs.reshape(-1).astype(str)
            at = np.clip(np.searchsorted(areas, flat), 0, max(len(areas) - 1, 0))
            known = (areas[at] == flat) if len(areas) else np.zeros(len(flat), dtype=bool)
            prefs = np.where(known, at, -1).reshape(problem.app_prefs.shape)
            county_id = np.searchsorted(areas, problem.post_county.astype(str))
            province_id = np.searchsorted(areas, self._post_province)
            self._code_cache = (prefs, county_id, province_id)
        return self._code_cache

    def arcs_for_pairs(self, a: np.ndarray, p: np.ndarray) -> Arcs:
        """The eligible ones among the pairs ``(a[i], p[i])``, once each, with exact costs.

        The rank of a post is the first preference naming its county or its province.
        """
        problem = self.problem
        key = a * problem.n_posts + p
        key, first = np.unique(key, return_index=True)
        a, p = a[first], p[first]
        prefs, county_id, province_id = self._codes()
        prefs = prefs[a]
        match = (prefs == county_id[p][:, None]) | (prefs == province_id[p][:, None])
        named = match.any(axis=1)
        rank = np.where(named, np.argmax(match, axis=1) + 1, OUTSIDE_RANK)
        r = problem.app_r[a]
        ok = problem.post_usable[p] & problem.app_health[a] & (r >= 0)
        if not problem.rules.allow_outside_preferences:
            ok &= named
        ok &= problem.pair_index[np.maximum(r, 0), np.maximum(problem.post_s[p], 0)] >= 0
        req = problem.post_req_mask[p]
        ok &= (req == 0) | ((req & problem.app_major_bit[a]) != 0)
        ok &= problem.app_degree[a] >= problem.post_min_degree[p]
        if len(problem.pin_forbid):  # the office's forbidden pairs (pins)
            ok &= ~np.isin(a * problem.n_posts + p, problem.pin_forbid)
        return self._priced(a[ok], p[ok], rank[ok])

    def _priced(self, a: np.ndarray, p: np.ndarray, rank: np.ndarray) -> Arcs:
        problem = self.problem
        w = problem.weights
        mismatch = (problem.post_fit_mask[p] & problem.app_major_bit[a]) == 0
        km = haversine_km(
            problem.app_home_lon[a],
            problem.app_home_lat[a],
            problem.post_lon[p],
            problem.post_lat[p],
        )
        subsidy = transport_subsidy(problem, km)
        cost = (
            -w.quota_unfilled
            - w.relay_empty * problem.post_relay[p].astype(np.int64)
            + np.where(rank == OUTSIDE_RANK, w.outside_preference, w.preference_rank * (rank - 1))
            + w.major_mismatch * mismatch
            - w.replan_move * (problem.app_prev_post[a] == p)
        ).astype(float) + w.transport_subsidy_per_100cny * subsidy / 100.0
        if problem.app_pin_post is not None:
            cost -= problem.pin_bonus * (problem.app_pin_post[a] == p)
        return Arcs(a, p, rank, mismatch, km, subsidy, cost)

    def all_arcs(self, chunk: int = 4096) -> Arcs:
        """Every eligible arc (small instances; the direct formulation uses this)."""
        n = self.problem.n_applicants
        parts = [self.arcs(np.arange(i, min(i + chunk, n))) for i in range(0, n, chunk)]
        return Arcs.concat(parts) if parts else self.arcs(np.zeros(0, dtype=np.int64))
