"""Re-check a volunteer plan against the hard rules A1-A6 of the planning model, section 2.

:func:`check_assignments` reads only the scenario's tables (quotas, posts, continuing,
applicants, pairing, targets, rules) and the plan's (applicant, post) pairs. It shares nothing
with the solver's structures (:class:`~planner.allocation.problem.AllocationProblem`, its arcs
or its usage counts), so a bug there shows up here as a violation. Counting is vectorised with
numpy; only the violations found are turned into Python objects.

Rules, as checked (each :class:`~planner.violation.Violation` carries the label):

A1
    Every plan row names a known applicant and a known post; an applicant appears at most
    once; a post's new volunteers are at most its open seats: ``seats`` minus the continuing
    volunteers on it (``continuing.csv``), never below 0.
A2
    A post's county has a row in ``quotas.csv`` (counties without one receive none) and is
    not ``barred``; per county, the new volunteers on posts of the general categories
    (education, health, agriculture, mobile_service, other) are at most ``general_quota``,
    and those of each special action at most its quota; a post whose category is in no
    bucket receives none.
A3
    The service province of the post (:func:`planner.geo.provinces_of` of its county code) is
    paired with the applicant's recruiting province in ``pairing.csv``; per pair with a seat
    count, the placements from that recruiting province into that service province are at
    most the count. Without a pairing table nothing is paired.
A4
    Per recruiting province ``r``, over the new volunteers placed from ``r``:
    ``n x placed_r <= d x bachelors_r``, where ``n/d`` is ``rules.undergraduate_min_share``
    as the exact fraction it is written as (0.85 = 17/20) and a bachelor is a degree of
    ``bachelor`` or higher (the summary's ``decisions.bachelor_share``).
A5
    The applicant's ``major_class`` is among the post's ``required_majors`` where it has
    any; the applicant's degree is at least the post's ``min_degree``; ``health_ok``; the
    post's county or service province is one of the applicant's preferences, unless
    ``rules.allow_outside_preferences``.
A6
    Per service province, the placements are at most its dispatch target (``targets.csv``,
    role ``service``); per recruiting province, at most its recruitment target (role
    ``recruit``). A province without a target row is not bounded.

Where an id or a bound is repeated in a table (validation rejects that), the tightest reading
is taken: the first row of an id, the smallest target or pair seat count.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from planner.geo import provinces_of
from planner.i18n import _, _n
from planner.scenario import (
    BACHELOR_RANK,
    DEGREES,
    GENERAL_CATEGORIES,
    SPECIAL_ACTIONS,
    ScenarioData,
)
from planner.violation import Violation

BUCKETS: tuple[str, ...] = ("general", *SPECIAL_ACTIONS)
"""A county's quota buckets (A2), in the column order of :func:`check_assignments`'s counts."""

_SHOWN = 5
"""Ids listed in a message before the rest is counted."""


def check_assignments(
    scenario: ScenarioData,
    applicant_id: Sequence[str] | np.ndarray,
    post_id: Sequence[str] | np.ndarray,
) -> list[Violation]:
    """Every hard rule (A1-A6) that a plan breaks.

    Parameters
    ----------
    scenario : ScenarioData
        The validated scenario the plan was made for.
    applicant_id, post_id : array-like of str, same length
        The plan: applicant ``applicant_id[i]`` takes a seat of post ``post_id[i]``.

    Returns
    -------
    list of Violation
        In rule order (A1 ... A6), each naming its subject and the numbers; empty when the
        plan keeps every rule.

    Raises
    ------
    ValueError
        When the two arrays differ in length or are not one-dimensional.
    """
    a_ids = _strings(applicant_id, "applicant_id")
    p_ids = _strings(post_id, "post_id")
    if a_ids.shape != p_ids.shape:
        raise ValueError(
            f"applicant_id has {len(a_ids)} entries and post_id {len(p_ids)}; "
            "expected one post per applicant"
        )
    plan = _Plan(scenario, a_ids, p_ids)
    out = plan.ids_and_seats()
    out += plan.buckets()
    out += plan.pairing()
    out += plan.bachelor_share()
    out += plan.eligibility()
    out += plan.targets()
    return out


# Helpers ------------------------------------------------------------------------------------


def _strings(values: Sequence[str] | np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name}: found shape {arr.shape}; expected a one-dimensional array")
    return arr.astype(str)


def _positions(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Index of each ``query`` value in ``keys`` (the first where repeated), -1 where absent."""
    if len(keys) == 0:
        return np.full(len(query), -1, dtype=np.int64)
    dtype = np.promote_types(keys.dtype, query.dtype)
    keys, query = keys.astype(dtype), query.astype(dtype)
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    at = np.minimum(np.searchsorted(ranked, query), len(keys) - 1)
    return np.where(ranked[at] == query, order[at], -1).astype(np.int64)


def _tightest(keys: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``keys`` and the smallest bound of each."""
    unique, inverse = np.unique(keys, return_inverse=True)
    best = np.full(len(unique), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, inverse, np.asarray(bounds, dtype=np.int64))
    return unique, best


def _few(ids: np.ndarray) -> str:
    """Up to :data:`_SHOWN` distinct ids, and how many more."""
    distinct = list(dict.fromkeys(ids.tolist()))
    shown = ", ".join(distinct[:_SHOWN])
    rest = len(distinct) - _SHOWN
    return _("{ids} and {n} more", ids=shown, n=rest) if rest > 0 else shown


def _seats(n: int) -> str:
    """``"1 seat"``, ``"2 seats"``."""
    return _n("{n} seat", "{n} seats", int(n))


def _open_seats(n: int) -> str:
    """``"1 open seat"``, ``"2 open seats"``."""
    return _n("{n} open seat", "{n} open seats", int(n))


def _share_fraction(share: float) -> Fraction:
    """The share as the exact fraction it is written as: 0.85 -> 17/20."""
    return Fraction(repr(float(share)))


class _Plan:
    """The plan's rows joined to the scenario's tables (known applicant and post only)."""

    def __init__(self, scenario: ScenarioData, a_ids: np.ndarray, p_ids: np.ndarray) -> None:
        self.sc = scenario
        self.a_ids = a_ids
        self.p_ids = p_ids
        apps, posts = scenario.applicants, scenario.posts
        empty = np.zeros(0, dtype=str)
        self.a_row = _positions(empty if apps is None else apps.applicant_id.astype(str), a_ids)
        self.p_row = _positions(empty if posts is None else posts.post_id.astype(str), p_ids)
        known = (self.a_row >= 0) & (self.p_row >= 0)
        self.rows = np.flatnonzero(known)
        """Plan rows whose applicant and post are both known; the rules below read these."""
        self.ai = self.a_row[known]
        self.pi = self.p_row[known]
        if posts is not None:
            self.county = posts.county_code.astype(str)[self.pi]
            self.category = posts.category.astype(str)[self.pi]
        else:
            self.county = self.category = empty
        self.service = provinces_of(self.county)
        self.recruit = empty if apps is None else apps.recruit_province.astype(str)[self.ai]

    def pair_subject(self, k: np.ndarray) -> list[str]:
        """``"applicant A -> post P"`` for the known rows ``k``."""
        rows = self.rows[k]
        return [
            _pair(a, p)
            for a, p in zip(self.a_ids[rows].tolist(), self.p_ids[rows].tolist(), strict=True)
        ]

    # A1 -------------------------------------------------------------------------------------

    def ids_and_seats(self) -> list[Violation]:
        out: list[Violation] = []
        for i in np.flatnonzero(self.a_row < 0).tolist():
            a, p = str(self.a_ids[i]), str(self.p_ids[i])
            out.append(
                Violation(
                    "A1",
                    _pair(a, p),
                    _("applicant {applicant!r} is not in the scenario's applicants", applicant=a),
                )
            )
        for i in np.flatnonzero((self.a_row >= 0) & (self.p_row < 0)).tolist():
            a, p = str(self.a_ids[i]), str(self.p_ids[i])
            out.append(
                Violation(
                    "A1", _pair(a, p), _("post {post!r} is not in the scenario's posts", post=p)
                )
            )
        ids, inverse, counts = np.unique(self.a_ids, return_inverse=True, return_counts=True)
        for u in np.flatnonzero(counts > 1).tolist():
            where = self.p_ids[inverse == u]
            out.append(
                Violation(
                    "A1",
                    _("applicant {applicant}", applicant=ids[u]),
                    _(
                        "placed {n} times (posts {posts}); expected at most one seat",
                        n=counts[u],
                        posts=", ".join(where.tolist()),
                    ),
                )
            )
        posts = self.sc.posts
        if posts is None:
            return out
        held = np.zeros(len(posts), dtype=np.int64)
        if self.sc.continuing is not None:
            at = _positions(posts.post_id.astype(str), self.sc.continuing.post_id.astype(str))
            held = np.bincount(at[at >= 0], minlength=len(posts)).astype(np.int64)
        seats = np.asarray(posts.seats, dtype=np.int64)
        open_seats = np.maximum(seats - held, 0)
        placed = np.bincount(self.pi, minlength=len(posts))
        for k in np.flatnonzero(placed > open_seats).tolist():
            out.append(
                Violation(
                    "A1",
                    _("post {post}", post=posts.post_id[k]),
                    _(
                        "{n} new volunteers on {open} ({seats} - {held} continuing)",
                        n=placed[k],
                        open=_open_seats(open_seats[k]),
                        seats=_seats(seats[k]),
                        held=held[k],
                    ),
                )
            )
        return out

    # A2 -------------------------------------------------------------------------------------

    def buckets(self) -> list[Violation]:
        out: list[Violation] = []
        q = self.sc.quotas
        q_codes = np.zeros(0, dtype=str) if q is None else q.county_code.astype(str)
        q_row = _positions(q_codes, self.county)
        for county in np.unique(self.county[q_row < 0]).tolist():
            here = (q_row < 0) & (self.county == county)
            out.append(
                Violation(
                    "A2",
                    _("county {county}", county=county),
                    _(
                        "has no row in quotas.csv but receives {n} new volunteers (posts "
                        "{posts}); expected none",
                        n=int(here.sum()),
                        posts=_few(self.p_ids[self.rows[here]]),
                    ),
                )
            )
        bucket = np.full(len(self.category), -1, dtype=np.int64)
        bucket[np.isin(self.category, GENERAL_CATEGORIES)] = 0
        for k, action in enumerate(SPECIAL_ACTIONS, start=1):
            bucket[self.category == action] = k
        for k in np.flatnonzero(bucket < 0).tolist():
            out.append(
                Violation(
                    "A2",
                    self.pair_subject(np.array([k]))[0],
                    _(
                        "the post's category {category!r} fills no quota bucket; expected one "
                        "of {categories}",
                        category=self.category[k],
                        categories=", ".join((*GENERAL_CATEGORIES, *SPECIAL_ACTIONS)),
                    ),
                )
            )
        if q is None:
            return out
        barred = np.asarray(q.barred, dtype=bool)
        placed_q = np.bincount(q_row[q_row >= 0], minlength=len(q))
        for c in np.flatnonzero(barred & (placed_q > 0)).tolist():
            out.append(
                Violation(
                    "A2",
                    _("county {county}", county=q_codes[c]),
                    _(
                        "is barred but receives {n} new volunteers; expected none",
                        n=placed_q[c],
                    ),
                )
            )
        caps = np.concatenate(
            [
                np.asarray(q.general_quota, dtype=np.int64)[:, None],
                np.asarray(q.special_quota, dtype=np.int64).reshape(len(q), len(SPECIAL_ACTIONS)),
            ],
            axis=1,
        )
        ok = (q_row >= 0) & (bucket >= 0)
        used = np.bincount(
            q_row[ok] * len(BUCKETS) + bucket[ok], minlength=len(q) * len(BUCKETS)
        ).reshape(len(q), len(BUCKETS))
        for c, k in zip(*np.nonzero(used > caps), strict=True):
            out.append(
                Violation(
                    "A2",
                    _("county {county} {bucket} bucket", county=q_codes[c], bucket=BUCKETS[k]),
                    _(
                        "{n} new volunteers above the {bucket} quota {quota}",
                        n=used[c, k],
                        bucket=BUCKETS[k],
                        quota=caps[c, k],
                    ),
                )
            )
        return out

    # A3 -------------------------------------------------------------------------------------

    def pairing(self) -> list[Violation]:
        out: list[Violation] = []
        problem = self.sc.pairing
        keys = np.char.add(np.char.add(self.service, "<"), self.recruit)
        if problem is None:
            pair_keys, seats = np.zeros(0, dtype=str), np.zeros(0, dtype=np.int64)
        else:
            raw = np.char.add(
                np.char.add(problem.service_province.astype(str), "<"),
                problem.recruit_province.astype(str),
            )
            bound = np.where(problem.seats >= 0, problem.seats, np.iinfo(np.int64).max)
            pair_keys, seats = _tightest(raw, bound)
        at = _positions(pair_keys, keys)
        for k in np.flatnonzero(at < 0).tolist():
            out.append(
                Violation(
                    "A3",
                    self.pair_subject(np.array([k]))[0],
                    _(
                        "recruited in {recruit}, placed in service province {service}, which is "
                        "not paired with {recruit}",
                        recruit=self.recruit[k],
                        service=self.service[k],
                    ),
                )
            )
        placed = np.bincount(at[at >= 0], minlength=len(pair_keys))
        for u in np.flatnonzero(placed > seats).tolist():
            service, recruit = str(pair_keys[u]).split("<")
            out.append(
                Violation(
                    "A3",
                    _("pair {service} <- {recruit}", service=service, recruit=recruit),
                    _(
                        "{n} placed from {recruit} in {service}, above the pair's {seats}",
                        n=placed[u],
                        recruit=recruit,
                        service=service,
                        seats=_seats(seats[u]),
                    ),
                )
            )
        return out

    # A4 -------------------------------------------------------------------------------------

    def bachelor_share(self) -> list[Violation]:
        apps = self.sc.applicants
        if apps is None or len(self.ai) == 0:
            return []
        share = self.sc.rules.undergraduate_min_share
        frac = _share_fraction(share)
        bachelor = np.asarray(apps.degree, dtype=np.int64)[self.ai] >= BACHELOR_RANK
        provinces, inverse = np.unique(self.recruit, return_inverse=True)
        placed = np.bincount(inverse, minlength=len(provinces))
        bachelors = np.bincount(inverse, weights=bachelor, minlength=len(provinces))
        out: list[Violation] = []
        for r in range(len(provinces)):
            n, b = int(placed[r]), int(bachelors[r])
            if frac.numerator * n > frac.denominator * b:
                out.append(
                    Violation(
                        "A4",
                        _("recruiting province {province}", province=provinces[r]),
                        _(
                            "{b} of {n} placed hold a bachelor's degree or higher, below the "
                            "share {share} ({num} x {n} > {den} x {b})",
                            b=b,
                            n=n,
                            share=share,
                            num=frac.numerator,
                            den=frac.denominator,
                        ),
                    )
                )
        return out

    # A5 -------------------------------------------------------------------------------------

    def eligibility(self) -> list[Violation]:
        apps, posts = self.sc.applicants, self.sc.posts
        if apps is None or posts is None or len(self.ai) == 0:
            return []
        found: list[tuple[int, str]] = []
        major = apps.major_class.astype(str)[self.ai]
        required = posts.required_majors
        for k, p in enumerate(self.pi.tolist()):
            if required[p] and major[k] not in required[p]:
                found.append(
                    (
                        k,
                        _(
                            "major {major} is not among the post's required majors {majors}",
                            major=major[k],
                            majors=", ".join(sorted(required[p])),
                        ),
                    )
                )
        degree = np.asarray(apps.degree, dtype=np.int64)[self.ai]
        least = np.asarray(posts.min_degree, dtype=np.int64)[self.pi]
        for k in np.flatnonzero((least >= 0) & (degree < least)).tolist():
            found.append(
                (
                    k,
                    _(
                        "degree {degree} is below the post's minimum {least}",
                        degree=_degree(degree[k]),
                        least=_degree(least[k]),
                    ),
                )
            )
        healthy = np.asarray(apps.health_ok, dtype=bool)[self.ai]
        for k in np.flatnonzero(~healthy).tolist():
            found.append((k, _("the applicant did not pass the health check")))
        if not self.sc.rules.allow_outside_preferences:
            prefs = apps.preferences.astype(str)[self.ai]
            named = (prefs == self.county[:, None]) | (prefs == self.service[:, None])
            for k in np.flatnonzero(~named.any(axis=1)).tolist():
                listed = ", ".join(x for x in prefs[k].tolist() if x) or _("none")
                found.append(
                    (
                        k,
                        _(
                            "neither the post's county {county} nor its province {province} is "
                            "among the preferences ({listed})",
                            county=self.county[k],
                            province=self.service[k],
                            listed=listed,
                        ),
                    )
                )
        found.sort(key=lambda item: item[0])
        subjects = self.pair_subject(np.array([k for k, _m in found], dtype=np.int64))
        return [Violation("A5", s, m) for s, (_, m) in zip(subjects, found, strict=True)]

    # A6 -------------------------------------------------------------------------------------

    def targets(self) -> list[Violation]:
        t = self.sc.targets
        if t is None or len(self.rows) == 0:
            return []
        out: list[Violation] = []
        role = t.role.astype(str)
        for name, placed_in in (("service", self.service), ("recruit", self.recruit)):
            mine = role == name
            codes, bound = _tightest(t.province_code.astype(str)[mine], t.target[mine])
            at = _positions(codes, placed_in)
            placed = np.bincount(at[at >= 0], minlength=len(codes))
            for u in np.flatnonzero(placed > bound).tolist():
                if name == "service":
                    subject = _("service province {province}", province=codes[u])
                    message = _(
                        "receives {n} new volunteers, above its dispatch target {target}",
                        n=placed[u],
                        target=bound[u],
                    )
                else:
                    subject = _("recruiting province {province}", province=codes[u])
                    message = _(
                        "sends {n} new volunteers, above its recruitment target {target}",
                        n=placed[u],
                        target=bound[u],
                    )
                out.append(Violation("A6", subject, message))
        return out


def _degree(rank: int) -> str:
    return DEGREES[rank] if 0 <= rank < len(DEGREES) else _("rank {rank}", rank=rank)


def _pair(applicant: str, post: str) -> str:
    return _("applicant {applicant} -> post {post}", applicant=applicant, post=post)
