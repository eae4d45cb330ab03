"""The allocation problem as numpy arrays, built once from a :class:`~planner.scenario.ScenarioData`.

Indices replace codes: applicants ``a``, posts ``p``, buckets ``b`` (a county's general bucket
or one special action's bucket, A2), service provinces ``s``, recruiting provinces ``r`` and
pairs ``(r, s)``. Capacities that the scenario leaves open are :data:`UNBOUNDED`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.scenario import (
    BACHELOR_RANK,
    DEFAULT_FIT,
    GENERAL_CATEGORIES,
    HIGH_LIVING_SUBSIDY_AREAS,
    MAJOR_CLASSES,
    SPECIAL_ACTIONS,
    Rules,
    ScenarioData,
    Weights,
)
from planner.scenario import _Frozen as Frozen

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

    @property
    def n_applicants(self) -> int:
        return len(self.applicant_id)

    @property
    def n_posts(self) -> int:
        return len(self.post_id)

    @property
    def county_s(self) -> np.ndarray:
        """Service-province index of each county with a quota row."""
        codes = np.asarray([str(c)[:2] + "0000" for c in self.county_code])
        return np.searchsorted(self.service_code, codes)

    def constant(self) -> float:
        """Objective value of the empty plan: every relay seat empty, every quota unit unfilled,
        every previous volunteer moved."""
        w = self.weights
        relay_open = int(self.post_open[self.post_relay].sum())
        quota = int(self.county_quota[~self.county_barred].sum())
        return float(
            w.relay_empty * relay_open + w.quota_unfilled * quota + w.replan_move * self.prev_count
        )

    @staticmethod
    def from_scenario(scenario: ScenarioData) -> AllocationProblem:
        """Build the arrays; the scenario must have been validated (geodata does that)."""
        return _build(scenario)


def _index(codes: np.ndarray) -> dict[str, int]:
    return {str(c): i for i, c in enumerate(codes)}


def _build(sc: ScenarioData) -> AllocationProblem:
    if sc.posts is None or sc.applicants is None or sc.quotas is None or sc.pairing is None:
        raise ValueError("an allocation needs posts, applicants, quotas and pairing tables")
    posts, apps, quotas, pairing = sc.posts, sc.applicants, sc.quotas, sc.pairing
    n_p = len(posts)
    # D4: continuing volunteers hold seats
    held = np.zeros(n_p, dtype=np.int64)
    post_of = _index(posts.post_id)
    if sc.continuing is not None:
        for pid in sc.continuing.post_id:
            i = post_of.get(str(pid))
            if i is not None:
                held[i] += 1
    open_seats = np.maximum(posts.seats - held, 0)

    # counties and buckets (A2)
    county_code = quotas.county_code.copy()
    county_of = _index(county_code)
    kinds = ("general", *SPECIAL_ACTIONS)
    caps = np.concatenate([quotas.general_quota[:, None], quotas.special_quota], axis=1)
    n_c = len(county_code)
    bucket_county = np.repeat(np.arange(n_c), len(kinds))
    bucket_kind = np.tile(np.asarray(kinds), n_c)
    bucket_cap = caps.reshape(-1).astype(np.int64)
    bucket_cap[np.repeat(quotas.barred, len(kinds))] = 0
    county_quota = caps.sum(axis=1).astype(np.int64)

    kind_of = {k: i for i, k in enumerate(kinds)}
    post_bucket = np.full(n_p, -1, dtype=np.int64)
    block = np.full(n_p, "", dtype=object)
    for i in range(n_p):
        c = county_of.get(str(posts.county_code[i]))
        if c is None:
            block[i] = "no-quota"
            continue
        cat = str(posts.category[i])
        k = kind_of["general"] if cat in GENERAL_CATEGORIES else kind_of[cat]
        post_bucket[i] = c * len(kinds) + k
        if quotas.barred[c]:
            block[i] = "barred"
        elif bucket_cap[post_bucket[i]] == 0:
            block[i] = "quota-0"
    block[(block == "") & (open_seats == 0)] = "no-open-seat"
    usable = block == ""

    # provinces, pairs and targets (A3, A6)
    service_code = np.unique(np.asarray([str(c)[:2] + "0000" for c in county_code]))
    service_of = _index(service_code)
    post_s = np.asarray(
        [service_of.get(str(c)[:2] + "0000", -1) for c in posts.county_code], dtype=np.int64
    )
    recruit_code = np.unique(
        pairing.recruit_province[np.isin(pairing.service_province, service_code)]
    )
    recruit_of = _index(recruit_code)
    pair_index = np.full((len(recruit_code), len(service_code)), -1, dtype=np.int64)
    pair_cap_list: list[int] = []
    for srv, rec, seats in zip(
        pairing.service_province, pairing.recruit_province, pairing.seats, strict=True
    ):
        s, r = service_of.get(str(srv)), recruit_of.get(str(rec))
        if s is None or r is None:
            continue
        pair_index[r, s] = len(pair_cap_list)
        pair_cap_list.append(int(seats) if seats >= 0 else UNBOUNDED)
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

    # applicants
    fit_mask = np.asarray([_mask(DEFAULT_FIT[str(c)]) for c in posts.category], dtype=np.int64)
    req_mask = np.asarray([_mask(m) for m in posts.required_majors], dtype=np.int64)
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
    app_of = _index(apps.applicant_id)
    prev_post = np.full(len(apps), -1, dtype=np.int64)
    prev_gone = np.zeros(len(posts), dtype=np.int64)
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
    high = np.asarray(
        [any(str(c).startswith(p) for p in HIGH_LIVING_SUBSIDY_AREAS) for c in posts.county_code]
    )
    return AllocationProblem(
        post_id=posts.post_id,
        post_county=posts.county_code,
        post_category=posts.category,
        post_open=open_seats,
        post_relay=posts.relay.copy(),
        post_bucket=post_bucket,
        post_s=post_s,
        post_req_mask=req_mask,
        post_min_degree=posts.min_degree,
        post_fit_mask=fit_mask,
        post_lon=posts.lon,
        post_lat=posts.lat,
        post_high_living=high,
        post_usable=usable,
        post_block=block.astype(str),
        post_prev_gone=prev_gone,
        bucket_county=bucket_county,
        bucket_kind=bucket_kind,
        bucket_cap=bucket_cap,
        county_code=county_code,
        county_quota=county_quota,
        county_barred=quotas.barred.copy(),
        service_code=service_code,
        service_cap=service_cap,
        recruit_code=recruit_code,
        recruit_cap=recruit_cap,
        pair_index=pair_index,
        pair_cap=np.asarray(pair_cap_list, dtype=np.int64),
        applicant_id=apps.applicant_id,
        app_r=np.asarray(
            [recruit_of.get(str(r), -1) for r in apps.recruit_province], dtype=np.int64
        ),
        app_bachelor=apps.degree >= BACHELOR_RANK,
        app_degree=apps.degree,
        app_major_bit=np.asarray([MAJOR_BIT[str(m)] for m in apps.major_class], dtype=np.int64),
        app_health=apps.health_ok.copy(),
        app_prefs=apps.preferences,
        app_home_lon=home_lon,
        app_home_lat=home_lat,
        app_prev_post=prev_post,
        rules=sc.rules,
        weights=sc.weights,
        prev_count=prev_count,
    )
