"""The allocation problem as numpy arrays, built once from a :class:`~planner.scenario.ScenarioData`.

Indices replace codes: applicants ``a``, posts ``p``, buckets ``b`` (a county's general bucket
or one special action's bucket, A2), service provinces ``s``, recruiting provinces ``r`` and
pairs ``(r, s)``. Capacities that the scenario leaves open are :data:`UNBOUNDED`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from planner.frozen import Frozen
from planner.geo import province_of, provinces_of
from planner.scenario import (
    BACHELOR_RANK,
    DEFAULT_FIT,
    GENERAL_CATEGORIES,
    HIGH_LIVING_SUBSIDY_AREAS,
    MAJOR_CLASSES,
    SPECIAL_ACTIONS,
    Applicants,
    Pairing,
    Posts,
    Quotas,
    Rules,
    ScenarioData,
    Weights,
)

UNBOUNDED = np.iinfo(np.int64).max // 4
"""Capacity of a constraint the scenario does not bound."""

MAJOR_BIT = {m: 1 << i for i, m in enumerate(MAJOR_CLASSES)}


def _mask(majors: frozenset[str]) -> int:
    return sum(MAJOR_BIT[m] for m in majors if m in MAJOR_BIT)


@dataclass(frozen=True, slots=True)
class AllocationProblem(Frozen):
    """Arrays of one allocation scenario (section 2 of the planning model).

    Posts that can take nobody (no quota row, barred county, no open seat) keep their index
    but have ``post_open == 0`` and ``post_usable`` False; the reason is in ``post_block``.
    """

    # posts -------------------------------------------------------------------------------
    post_id: np.ndarray
    post_county: np.ndarray
    """County code of each post."""
    post_category: np.ndarray
    post_open: np.ndarray
    """Open seats: seats minus continuing volunteers (A1, D4)."""
    post_relay: np.ndarray
    post_bucket: np.ndarray
    """Bucket index of the post; -1 when the post has no usable bucket."""
    post_s: np.ndarray
    """Service-province index."""
    post_req_mask: np.ndarray
    """Bit mask of required major classes; 0 = any (A5)."""
    post_min_degree: np.ndarray
    post_fit_mask: np.ndarray
    """Bit mask of major classes that fit the post's category (objective term 4)."""
    post_lon: np.ndarray
    post_lat: np.ndarray
    post_high_living: np.ndarray
    post_usable: np.ndarray
    post_block: np.ndarray
    """Why a post takes nobody: "" (usable), "no-quota", "barred", "no-open-seat", "quota-0"."""
    post_prev_gone: np.ndarray
    """Volunteers of the previous plan on each post who are no longer applicants (dropouts):
    a re-plan starts from the previous plan with their seats freed."""
    # buckets (A2) --------------------------------------------------------------------------
    bucket_county: np.ndarray
    bucket_kind: np.ndarray
    """"general" or a special action."""
    bucket_cap: np.ndarray
    # counties with a quota row -------------------------------------------------------------
    county_code: np.ndarray
    county_quota: np.ndarray
    """General + special quotas."""
    county_barred: np.ndarray
    # provinces -----------------------------------------------------------------------------
    service_code: np.ndarray
    service_cap: np.ndarray
    """Dispatch target (A6)."""
    recruit_code: np.ndarray
    recruit_cap: np.ndarray
    """Recruitment target (A6)."""
    pair_index: np.ndarray
    """Shape (n_recruit, n_service): pair index, -1 when not paired (A3)."""
    pair_cap: np.ndarray
    # applicants ----------------------------------------------------------------------------
    applicant_id: np.ndarray
    app_r: np.ndarray
    """Recruiting-province index; -1 when that province has no pairing at all."""
    app_bachelor: np.ndarray
    app_degree: np.ndarray
    app_major_bit: np.ndarray
    app_health: np.ndarray
    app_prefs: np.ndarray
    """Shape (n, 5) of preference codes, "" past the last."""
    app_home_lon: np.ndarray
    app_home_lat: np.ndarray
    app_prev_post: np.ndarray
    """Post index of the applicant in the previous plan, -1 if none."""
    # settings ------------------------------------------------------------------------------
    rules: Rules
    weights: Weights
    prev_count: int
    """Applicants of the previous plan who are still applicants (term 6 constant)."""
    app_pin_post: np.ndarray | None = None
    """Post index of each applicant's assign pin, -1 if none; None when no pin
    (:mod:`planner.allocation.pinning`): the arc to it saves ``pin_bonus``, and the constant
    holds ``pin_bonus`` per pin, so a plan honouring the pins keeps its value."""
    pin_bonus: int = 0
    """The saving of an assign pin's arc (the ``M`` of :func:`~planner.allocation.pinning.force`)."""
    pin_forbid: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Forbidden pairs of the office's pins (:mod:`planner.allocation.pinning`), sorted keys
    ``a * n_posts + p``: not eligible; such an applicant reaches his posts by direct arcs."""

    @property
    def pin_restricted(self) -> np.ndarray:
        """Applicants with a forbidden pair (sorted, unique)."""
        return np.unique(self.pin_forbid // max(self.n_posts, 1))

    @property
    def pinned_post(self) -> np.ndarray:
        """Each applicant's assign-pin post, -1 if none (all -1 without pins)."""
        if self.app_pin_post is None:
            return np.full(self.n_applicants, -1, dtype=np.int64)
        return self.app_pin_post

    @property
    def keep_post(self) -> np.ndarray:
        """The post a plan starts from for each applicant (a warm start, a direct arc): his
        assign pin's, else his previous plan's; -1 if neither."""
        if self.app_pin_post is None:
            return self.app_prev_post
        return np.where(self.app_pin_post >= 0, self.app_pin_post, self.app_prev_post)

    @property
    def n_applicants(self) -> int:
        return len(self.applicant_id)

    @property
    def n_posts(self) -> int:
        return len(self.post_id)

    @property
    def county_s(self) -> np.ndarray:
        """Service-province index of each county with a quota row."""
        return np.searchsorted(self.service_code, provinces_of(self.county_code))

    def constant(self) -> float:
        """Objective value of the empty plan: every relay seat empty, every quota unit unfilled,
        every previous volunteer moved (and every assign pin broken)."""
        w = self.weights
        relay_open = int(self.post_open[self.post_relay].sum())
        quota = int(self.county_quota[~self.county_barred].sum())
        pins = int((self.pinned_post >= 0).sum()) if self.app_pin_post is not None else 0
        return float(
            w.relay_empty * relay_open
            + w.quota_unfilled * quota
            + w.replan_move * self.prev_count
            + self.pin_bonus * pins
        )

    @staticmethod
    def from_scenario(scenario: ScenarioData) -> AllocationProblem:
        """Build the arrays; the scenario must have been validated (geodata does that)."""
        return _build(scenario)


def _index(codes: np.ndarray) -> dict[str, int]:
    return {str(c): i for i, c in enumerate(codes)}


def _build(sc: ScenarioData) -> AllocationProblem:
    """The arrays of ``sc``: seats, buckets, provinces, applicants and the previous plan."""
    if sc.posts is None or sc.applicants is None or sc.quotas is None or sc.pairing is None:
        raise ValueError("an allocation needs posts, applicants, quotas and pairing tables")
    posts, apps, quotas = sc.posts, sc.applicants, sc.quotas
    post_of = _index(posts.post_id)
    open_seats = _open_seats(sc, posts, post_of)
    buckets = _buckets(quotas)
    post_bucket, block = _post_buckets(posts, quotas, buckets, open_seats)
    prov = _provinces(sc, sc.pairing, quotas.county_code, posts)
    home_lon, home_lat = _homes(sc, apps)
    previous = _previous_plan(sc, apps, post_of, len(posts))
    return AllocationProblem(
        post_id=posts.post_id,
        post_county=posts.county_code,
        post_category=posts.category,
        post_open=open_seats,
        post_relay=posts.relay.copy(),
        post_bucket=post_bucket,
        post_s=prov.post_s,
        post_req_mask=np.asarray([_mask(m) for m in posts.required_majors], dtype=np.int64),
        post_min_degree=posts.min_degree,
        post_fit_mask=np.asarray(
            [_mask(DEFAULT_FIT[str(c)]) for c in posts.category], dtype=np.int64
        ),
        post_lon=posts.lon,
        post_lat=posts.lat,
        post_high_living=_high_living(posts),
        post_usable=block == "",
        post_block=block.astype(str),
        post_prev_gone=previous.gone,
        bucket_county=buckets.county,
        bucket_kind=buckets.kind,
        bucket_cap=buckets.cap,
        county_code=quotas.county_code.copy(),
        county_quota=buckets.county_quota,
        county_barred=quotas.barred.copy(),
        service_code=prov.service_code,
        service_cap=prov.service_cap,
        recruit_code=prov.recruit_code,
        recruit_cap=prov.recruit_cap,
        pair_index=prov.pair_index,
        pair_cap=prov.pair_cap,
        applicant_id=apps.applicant_id,
        app_r=np.asarray(
            [prov.recruit_of.get(str(r), -1) for r in apps.recruit_province], dtype=np.int64
        ),
        app_bachelor=apps.degree >= BACHELOR_RANK,
        app_degree=apps.degree,
        app_major_bit=np.asarray([MAJOR_BIT[str(m)] for m in apps.major_class], dtype=np.int64),
        app_health=apps.health_ok.copy(),
        app_prefs=apps.preferences,
        app_home_lon=home_lon,
        app_home_lat=home_lat,
        app_prev_post=previous.post,
        rules=sc.rules,
        weights=sc.weights,
        prev_count=previous.staying,
    )


def _open_seats(sc: ScenarioData, posts: Posts, post_of: dict[str, int]) -> np.ndarray:
    """Each post's seats less those its continuing volunteers hold (D4)."""
    held = np.zeros(len(posts), dtype=np.int64)
    if sc.continuing is not None:
        for pid in sc.continuing.post_id:
            i = post_of.get(str(pid))
            if i is not None:
                held[i] += 1
    return np.maximum(posts.seats - held, 0)


class _Buckets(NamedTuple):
    """Each county's general bucket and one bucket per special action, county by county (A2)."""

    kinds: tuple[str, ...]
    county: np.ndarray
    kind: np.ndarray
    cap: np.ndarray
    county_quota: np.ndarray


def _buckets(quotas: Quotas) -> _Buckets:
    """The buckets of every county with a quota row; a barred county's buckets hold 0."""
    kinds = ("general", *SPECIAL_ACTIONS)
    caps = np.concatenate([quotas.general_quota[:, None], quotas.special_quota], axis=1)
    n_c = len(quotas.county_code)
    cap = caps.reshape(-1).astype(np.int64)
    cap[np.repeat(quotas.barred, len(kinds))] = 0
    return _Buckets(
        kinds=kinds,
        county=np.repeat(np.arange(n_c), len(kinds)),
        kind=np.tile(np.asarray(kinds), n_c),
        cap=cap,
        county_quota=caps.sum(axis=1).astype(np.int64),
    )


def _post_buckets(
    posts: Posts, quotas: Quotas, buckets: _Buckets, open_seats: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each post's bucket (-1: none) and why it takes nobody ("" if it is usable)."""
    county_of = _index(quotas.county_code)
    kind_of = {k: i for i, k in enumerate(buckets.kinds)}
    post_bucket = np.full(len(posts), -1, dtype=np.int64)
    block = np.full(len(posts), "", dtype=object)
    for i in range(len(posts)):
        c = county_of.get(str(posts.county_code[i]))
        if c is None:
            block[i] = "no-quota"
            continue
        cat = str(posts.category[i])
        k = kind_of["general"] if cat in GENERAL_CATEGORIES else kind_of[cat]
        post_bucket[i] = c * len(buckets.kinds) + k
        if quotas.barred[c]:
            block[i] = "barred"
        elif buckets.cap[post_bucket[i]] == 0:
            block[i] = "quota-0"
    block[(block == "") & (open_seats == 0)] = "no-open-seat"
    return post_bucket, block


class _Provinces(NamedTuple):
    """Service and recruiting provinces, their pairs and targets (A3, A6)."""

    service_code: np.ndarray
    service_cap: np.ndarray
    recruit_code: np.ndarray
    recruit_cap: np.ndarray
    recruit_of: dict[str, int]
    pair_index: np.ndarray
    pair_cap: np.ndarray
    post_s: np.ndarray


def _provinces(
    sc: ScenarioData, pairing: Pairing, county_code: np.ndarray, posts: Posts
) -> _Provinces:
    """The provinces of the counties with a quota row, the recruiting provinces paired with
    them, the pairs' seat counts and the dispatch and recruitment targets."""
    service_code = np.unique(provinces_of(county_code))
    service_of = _index(service_code)
    recruit_code = np.unique(
        pairing.recruit_province[np.isin(pairing.service_province, service_code)]
    )
    recruit_of = _index(recruit_code)
    pair_index = np.full((len(recruit_code), len(service_code)), -1, dtype=np.int64)
    pair_cap: list[int] = []
    for srv, rec, seats in zip(
        pairing.service_province, pairing.recruit_province, pairing.seats, strict=True
    ):
        s, r = service_of.get(str(srv)), recruit_of.get(str(rec))
        if s is None or r is None:
            continue
        pair_index[r, s] = len(pair_cap)
        pair_cap.append(int(seats) if seats >= 0 else UNBOUNDED)
    service_cap = np.full(len(service_code), UNBOUNDED, dtype=np.int64)
    recruit_cap = np.full(len(recruit_code), UNBOUNDED, dtype=np.int64)
    if sc.targets is not None:
        for code, role, target in zip(
            sc.targets.province_code, sc.targets.role, sc.targets.target, strict=True
        ):
            if role == "service" and str(code) in service_of:
                service_cap[service_of[str(code)]] = int(target)
            elif role == "recruit" and str(code) in recruit_of:
                recruit_cap[recruit_of[str(code)]] = int(target)
    post_s = [service_of.get(province_of(str(c)), -1) for c in posts.county_code]
    return _Provinces(
        service_code=service_code,
        service_cap=service_cap,
        recruit_code=recruit_code,
        recruit_cap=recruit_cap,
        recruit_of=recruit_of,
        pair_index=pair_index,
        pair_cap=np.asarray(pair_cap, dtype=np.int64),
        post_s=np.asarray(post_s, dtype=np.int64),
    )


def _homes(sc: ScenarioData, apps: Applicants) -> tuple[np.ndarray, np.ndarray]:
    """Each applicant's home: the given point, else his home county's centroid."""
    county_row = _index(sc.counties.code)
    home_lon = apps.home_lon.copy()
    home_lat = apps.home_lat.copy()
    missing = ~(np.isfinite(home_lon) & np.isfinite(home_lat))
    for i in np.flatnonzero(missing).tolist():
        row = county_row.get(str(apps.home_county_code[i]))
        if row is None:
            raise ValueError(f"applicant {apps.applicant_id[i]} has no home location")
        home_lon[i] = sc.counties.centroid_lon[row]
        home_lat[i] = sc.counties.centroid_lat[row]
    return home_lon, home_lat


class _Previous(NamedTuple):
    """The previous plan in indices (term 6)."""

    post: np.ndarray
    """Each applicant's post in it, -1 if none."""
    gone: np.ndarray
    """Each post's volunteers in it who are no longer applicants (dropouts)."""
    staying: int
    """Its volunteers who are still applicants."""


def _previous_plan(
    sc: ScenarioData, apps: Applicants, post_of: dict[str, int], n_posts: int
) -> _Previous:
    """Where the previous plan put each applicant, and the seats its dropouts free."""
    app_of = _index(apps.applicant_id)
    prev_post = np.full(len(apps), -1, dtype=np.int64)
    prev_gone = np.zeros(n_posts, dtype=np.int64)
    prev_count = 0
    if sc.previous_plan is not None:
        for aid, pid in zip(sc.previous_plan.applicant_id, sc.previous_plan.post_id, strict=True):
            a = app_of.get(str(aid))
            if a is None:  # a dropout: not counted in term 6; his seat is free again
                if (p := post_of.get(str(pid))) is not None:
                    prev_gone[p] += 1
                continue
            prev_count += 1
            prev_post[a] = post_of.get(str(pid), -1)
    return _Previous(prev_post, prev_gone, prev_count)


def _high_living(posts: Posts) -> np.ndarray:
    """Whether each post is in an area of the high living subsidy."""
    return np.asarray(
        [any(str(c).startswith(p) for p in HIGH_LIVING_SUBSIDY_AREAS) for c in posts.county_code]
    )
