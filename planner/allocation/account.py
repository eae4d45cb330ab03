"""The account of a plan (:class:`PlanAccount`): objective terms, rule usage, money and the
reasons behind every gap.

Built from the solver's chosen arcs; every figure here is recomputed from the plan itself
(and the test suite checks them again with an independent checker).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from planner.allocation.arcs import OUTSIDE_RANK, ArcBuilder, Arcs
from planner.allocation.lp import Usage, share_ok
from planner.allocation.lp import usage as lp_usage
from planner.allocation.problem import UNBOUNDED, AllocationProblem
from planner.allocation.solver import AllocationSolution
from planner.geo import province_of
from planner.i18n import N_, Place, Text
from planner.summaries import EmptyRelaySeat, PlanCounts, RuleUsage, Terms, UnfilledQuota

MONTHS = 12
"""The budget is yearly: 12 months of living subsidy."""
CHUNK = 2_000
"""Applicants whose eligible arcs are built at once while explaining a plan."""

UNPLACED: dict[str, str] = {
    "health": N_("did not pass the health check (A5)"),
    "pairing": N_("the recruiting province is paired with no service province (A3)"),
    "no-eligible-post": N_(
        "no open post in the preferred counties/provinces accepts this applicant's major and "
        "degree (A5) under the pairing (A3)"
    ),
    "recruit-target": N_("province {province} reached its recruitment target (A6)"),
    "bachelor-share": N_(
        "placing one more non-bachelor from {province} would break the 85% rule (A4)"
    ),
    "dispatch-target": N_("{province} reached the dispatch target (A6)"),
    "pinned-exclude": N_("excluded by the office's decision (pin)"),
    "not-selected": N_(
        "every eligible seat went to an applicant for whom it costs the plan less (closer "
        "preference, better fit or lower subsidy), or its county quota is filled (A2)"
    ),
}
"""Reason codes of unplaced applicants (``unassigned.csv``) and their text (a template)."""


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an applicant is not placed: a code of :data:`UNPLACED` and the province(s) it
    names; ``str()`` gives ``"code: text"``."""

    code: str
    province: str = ""

    @property
    def text(self) -> Text:
        """What the code means for this applicant, read in the reader's language."""
        return Text(UNPLACED[self.code], {"province": _places(self.province)})

    @property
    def described(self) -> Text:
        """``code: text``."""
        return Text(N_("{code}: {text}"), {"code": self.code, "text": self.text})

    def __str__(self) -> str:
        return str(self.described)


def _joined(parts: list[Text]) -> Text:
    """Texts one after the other, separated as the language separates clauses (``; ``)."""
    out = parts[0]
    for part in parts[1:]:
        out = Text(N_("{first}; {then}"), {"first": out, "then": part})
    return out


@dataclass(frozen=True, slots=True)
class UnfilledCounty:
    """A county short of its quota and the binding cause (a text read in the reader's
    language)."""

    county_code: str
    quota: int
    placed: int
    unfilled: int
    cause: Text

    def written(self) -> UnfilledQuota:
        """As ``summary.json`` holds it: the cause in the language of the moment."""
        return UnfilledQuota(
            self.county_code, self.quota, self.placed, self.unfilled, str(self.cause)
        )


@dataclass(frozen=True, slots=True)
class EmptyRelayPost:
    """A relay post with an empty open seat and why (a text read in the reader's language)."""

    post_id: str
    county_code: str
    empty: int
    cause: Text

    def written(self) -> EmptyRelaySeat:
        """As ``summary.json`` holds it: the cause in the language of the moment."""
        return EmptyRelaySeat(self.post_id, self.county_code, self.empty, str(self.cause))


@dataclass(frozen=True, slots=True)
class PlanAccount:
    """The account of a plan: everything the outputs show besides the assignment itself (the
    objective terms, the counts, the money, the rule usage and the reasons of every gap)."""

    terms: Terms
    counts: PlanCounts
    living_month: np.ndarray
    """Per used arc: the monthly living subsidy (2.4)."""
    budget_each: np.ndarray
    """Per used arc: the yearly budget of that volunteer in CNY (2.4)."""
    budget_total: int
    budget_by_service: dict[str, int]
    budget_by_recruit: dict[str, int]
    rule_usage: RuleUsage
    unassigned_reason: dict[int, Reason]
    """Applicant index -> reason."""
    unfilled: tuple[UnfilledCounty, ...]
    """Each county with unfilled quota: the numbers and the binding cause."""
    empty_relay: tuple[EmptyRelayPost, ...] = ()
    """Each relay post with an empty seat: the numbers and why."""


def build_account(problem: AllocationProblem, sol: AllocationSolution) -> PlanAccount:
    """Recompute the terms and explain the plan."""
    w = problem.weights
    used = sol.arcs
    counts_by_row = lp_usage(problem, used)
    filled = counts_by_row.post
    relay_open = int(problem.post_open[problem.post_relay].sum())
    relay_filled = int(filled[problem.post_relay].sum())
    quota = int(problem.county_quota[~problem.county_barred].sum())
    inside = used.rank < OUTSIDE_RANK
    kept = int(np.sum(problem.app_prev_post[used.a] == used.p))
    terms = Terms(
        relay_empty=float(w.relay_empty * (relay_open - relay_filled)),
        quota_unfilled=float(w.quota_unfilled * (quota - len(used))),
        preference=float(
            w.preference_rank * np.sum(used.rank[inside] - 1)
            + w.outside_preference * np.sum(~inside)
        ),
        major_mismatch=float(w.major_mismatch * np.sum(used.mismatch)),
        transport_subsidy=float(w.transport_subsidy_per_100cny * np.sum(used.subsidy_cny) / 100),
        replan_moves=float(w.replan_move * (problem.prev_count - kept)),
    )
    living = np.where(
        problem.post_high_living[used.p],
        problem.rules.living_subsidy_month_high,
        problem.rules.living_subsidy_month,
    )
    per_head = (
        MONTHS * living
        + used.subsidy_cny
        + problem.rules.insurance_cny
        + problem.rules.health_check_cny
    )
    by_s: dict[str, int] = defaultdict(int)
    by_r: dict[str, int] = defaultdict(int)
    for a, p, money in zip(used.a.tolist(), used.p.tolist(), per_head.tolist(), strict=True):
        by_s[str(problem.service_code[problem.post_s[p]])] += int(money)
        by_r[str(problem.recruit_code[problem.app_r[a]])] += int(money)
    counts = PlanCounts(
        applicants=problem.n_applicants,
        placed=len(used),
        unplaced=problem.n_applicants - len(used),
        quota_units=quota,
        quota_unfilled_units=quota - len(used),
        relay_open_seats=relay_open,
        relay_empty_seats=relay_open - relay_filled,
        outside_preferences=int(np.sum(~inside)),
        first_preference=int(np.sum(used.rank == 1)),
        major_mismatch=int(np.sum(used.mismatch)),
        previous_kept=kept,
        previous_moved=problem.prev_count - kept,
    )
    usage = _rule_usage(problem, counts_by_row)
    reasons = _unassigned_reasons(problem, used, usage)
    # the counties short of their quota and the relay posts with an empty seat, explained by
    # who was eligible there (their arcs built once for both)
    placed_c = np.bincount(
        problem.bucket_county[problem.post_bucket[used.p]], minlength=len(problem.county_code)
    )
    short = np.flatnonzero(~problem.county_barred & (problem.county_quota > placed_c))
    empty = np.flatnonzero(problem.post_relay & (problem.post_open > filled))
    counties = {str(c) for c in problem.county_code[short]} | {
        str(c) for c in problem.post_county[empty]
    }
    why = _Why(problem, used, reasons, counties, _full_services(usage))
    return PlanAccount(
        terms=terms,
        counts=counts,
        living_month=living,
        budget_each=per_head,
        budget_total=int(per_head.sum()),
        budget_by_service=dict(sorted(by_s.items())),
        budget_by_recruit=dict(sorted(by_r.items())),
        rule_usage=usage,
        unassigned_reason=reasons,
        unfilled=_unfilled(problem, placed_c, short, why),
        empty_relay=_empty_relay(problem, used, empty, why, filled),
    )


def _rule_usage(problem: AllocationProblem, counts: Usage) -> RuleUsage:
    """How much of each capacity the plan takes (A2, A3, A4, A6)."""
    bucket_used = counts.bucket
    buckets: list[dict[str, object]] = [
        {
            "county_code": str(problem.county_code[problem.bucket_county[b]]),
            "bucket": str(problem.bucket_kind[b]),
            "quota": int(problem.bucket_cap[b]),
            "placed": int(bucket_used[b]),
            "binding": bool(bucket_used[b] >= problem.bucket_cap[b]),
        }
        for b in np.flatnonzero(problem.bucket_cap > 0)
    ]
    s_used, r_used, r_bach = counts.service, counts.recruit, counts.recruit_bachelors

    def cap(v: int) -> int | None:
        return None if v >= UNBOUNDED else int(v)

    service: list[dict[str, object]] = [
        {
            "province_code": str(problem.service_code[s]),
            "dispatch_target": cap(int(problem.service_cap[s])),
            "placed": int(s_used[s]),
            "binding": bool(s_used[s] >= problem.service_cap[s]),
        }
        for s in range(len(problem.service_code))
    ]
    recruit: list[dict[str, object]] = []
    for r in range(len(problem.recruit_code)):
        placed, bach = int(r_used[r]), int(r_bach[r])
        recruit.append(
            {
                "province_code": str(problem.recruit_code[r]),
                "recruit_target": cap(int(problem.recruit_cap[r])),
                "placed": placed,
                "bachelor_or_higher": bach,
                "bachelor_share": round(bach / placed, 4) if placed else None,
                "target_binding": bool(placed >= problem.recruit_cap[r]),
                "share_binding": bool(placed and not share_ok(problem, placed + 1, bach)),
            }
        )
    pair_used = counts.pair
    pairs: list[dict[str, object]] = []
    for r in range(len(problem.recruit_code)):
        for s in np.flatnonzero(problem.pair_index[r] >= 0):
            k = int(problem.pair_index[r, s])
            pairs.append(
                {
                    "service_province": str(problem.service_code[s]),
                    "recruit_province": str(problem.recruit_code[r]),
                    "seats": cap(int(problem.pair_cap[k])),
                    "placed": int(pair_used[k]),
                    "binding": bool(pair_used[k] >= problem.pair_cap[k]),
                }
            )
    return RuleUsage.from_dict(
        {"buckets": buckets, "service": service, "recruit": recruit, "pairs": pairs}
    )


def _full_services(usage: RuleUsage) -> set[str]:
    """The service provinces whose dispatch target is reached (A6)."""
    return {u.province_code for u in usage.service if u.binding}


def _unassigned_reasons(
    problem: AllocationProblem, used: Arcs, usage: RuleUsage
) -> dict[int, Reason]:
    placed = np.zeros(problem.n_applicants, dtype=bool)
    placed[used.a] = True
    out: dict[int, Reason] = {}
    idle = np.flatnonzero(~placed)
    if not len(idle):
        return out
    # per idle applicant: has he an eligible arc, and the service provinces of his arcs (bits)
    has_arc = np.zeros(problem.n_applicants, dtype=bool)
    provinces = np.zeros(problem.n_applicants, dtype=np.int64)
    has_arc[idle], provinces[idle] = ArcBuilder(problem).reach(idle)
    recruit = usage.recruit
    service_full = _full_services(usage)
    for a in idle.tolist():
        r = int(problem.app_r[a])
        if not problem.app_health[a]:
            out[a] = Reason("health")
        elif r < 0:
            out[a] = Reason("pairing")
        elif not has_arc[a]:
            out[a] = Reason("no-eligible-post")
        elif recruit[r].target_binding:
            out[a] = Reason("recruit-target", str(problem.recruit_code[r]))
        elif not problem.app_bachelor[a] and recruit[r].share_binding:
            out[a] = Reason("bachelor-share", str(problem.recruit_code[r]))
        else:
            mine = [str(c) for i, c in enumerate(problem.service_code) if provinces[a] >> i & 1]
            if mine and set(mine) <= service_full:
                out[a] = Reason("dispatch-target", ", ".join(mine))
            else:
                out[a] = Reason("not-selected")
    return out


class _Why:
    """Who could have taken a county's unfilled quota or a relay post's empty seat, and why
    each of them did not: placed at a post that costs the plan less, or unplaced for a
    binding rule (the applicant's own reason, naming the province and the rule)."""

    def __init__(
        self,
        problem: AllocationProblem,
        used: Arcs,
        reasons: dict[int, Reason],
        counties: set[str],
        service_full: set[str],
    ) -> None:
        self.problem, self.reasons, self.service_full = problem, reasons, service_full
        self.post_of = np.full(problem.n_applicants, -1, dtype=np.int64)
        self.post_of[used.a] = used.p
        # every eligible arc into the counties to explain, from the applicants naming them
        areas = sorted(counties | {province_of(c) for c in counties})
        naming = np.flatnonzero(np.isin(problem.app_prefs, areas).any(axis=1))
        wanted = np.isin(problem.post_county, sorted(counties))
        builder = ArcBuilder(problem, posts=wanted)
        a_parts, p_parts = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for chunk in np.array_split(naming, max(1, -(-len(naming) // CHUNK))):
            arcs = builder.arcs(chunk)
            a_parts.append(arcs.a)
            p_parts.append(arcs.p)
        a, p = np.concatenate(a_parts), np.concatenate(p_parts)
        order = np.argsort(problem.post_county[p], kind="stable")
        self._a, self._p = a[order], p[order]
        self._county = problem.post_county[self._p].astype(str)

    def eligible(self, code: str, post: int | None = None) -> np.ndarray:
        """The applicants eligible for some post of county ``code`` (or for ``post``)."""
        lo = np.searchsorted(self._county, code, side="left")
        hi = np.searchsorted(self._county, code, side="right")
        a, p = self._a[lo:hi], self._p[lo:hi]
        return np.unique(a if post is None else a[p == post])

    def who(self, eligible: np.ndarray) -> Text:
        """``eligible`` applicants, by what keeps each of them away."""
        placed = eligible[self.post_of[eligible] >= 0]
        parts = [Text(N_("{n} eligible applicant(s)"), {"n": len(eligible)})]
        if len(placed):
            parts.append(
                Text(
                    N_(
                        "{n} placed elsewhere, where they cost the plan less (closer preference, "
                        "better fit or lower subsidy) or fill a seat this one would empty"
                    ),
                    {"n": len(placed)},
                )
            )
        counted = Counter(
            self.reasons[int(a)] for a in np.setdiff1d(eligible, placed) if int(a) in self.reasons
        )
        parts += [
            Text(N_("{n} unplaced: {why}"), {"n": n, "why": why.text})
            for why, n in sorted(counted.items(), key=lambda item: (item[0].code, item[0].province))
        ]
        return _joined(parts)


def _unfilled(
    problem: AllocationProblem, placed_c: np.ndarray, short: np.ndarray, why: _Why
) -> tuple[UnfilledCounty, ...]:
    """Each non-barred county ``short`` of its quota (``placed_c`` placed), and why."""
    open_by_bucket = np.bincount(
        problem.post_bucket[problem.post_usable],
        weights=problem.post_open[problem.post_usable],
        minlength=len(problem.bucket_cap),
    )
    prefs = problem.app_prefs
    out: list[UnfilledCounty] = []
    for c in short.tolist():
        code = str(problem.county_code[c])
        province = province_of(code)
        buckets = np.flatnonzero(problem.bucket_county == c)
        seat_short = int(
            np.sum(np.maximum(problem.bucket_cap[buckets] - open_by_bucket[buckets], 0))
        )
        naming = np.flatnonzero(((prefs == code) | (prefs == province)).any(axis=1))
        if len(naming) == 0:
            cause = Text(N_("no applicant lists this county or its province"))
        else:
            eligible = why.eligible(code)
            if len(eligible) == 0:
                cause = Text(
                    N_(
                        "the {n} applicants who list it are all excluded: pairing, health check, "
                        "majors or degree (A3, A5); {unpaired} from an unpaired province"
                    ),
                    {"n": len(naming), "unpaired": int(np.sum(problem.app_r[naming] < 0))},
                )
            elif province in why.service_full:
                cause = _dispatch_reached(province)
            else:
                cause = why.who(eligible)
        if seat_short:
            short_seats = Text(
                N_("{n} quota units have no open seat of their category (D1)"), {"n": seat_short}
            )
            cause = _joined([cause, short_seats])
        out.append(
            UnfilledCounty(
                code,
                int(problem.county_quota[c]),
                int(placed_c[c]),
                int(problem.county_quota[c] - placed_c[c]),
                cause,
            )
        )
    return tuple(out)


def _empty_relay(
    problem: AllocationProblem, used: Arcs, empty: np.ndarray, why: _Why, filled: np.ndarray
) -> tuple[EmptyRelayPost, ...]:
    """Every relay post with an ``empty`` open seat and why it stayed empty."""
    blocked = {
        "barred": N_("the county is barred (A2)"),
        "no-quota": N_("the county has no quota row"),
        "quota-0": N_("the county's quota for this category is 0 (A2)"),
    }
    in_bucket = np.bincount(problem.post_bucket[used.p], minlength=len(problem.bucket_cap))
    out: list[EmptyRelayPost] = []
    for p in empty.tolist():
        code, b = str(problem.post_county[p]), int(problem.post_bucket[p])
        eligible = np.zeros(0, dtype=np.int64)
        if str(problem.post_block[p]) not in blocked:
            eligible = why.eligible(code, p)
        if str(problem.post_block[p]) in blocked:
            cause = Text(blocked[str(problem.post_block[p])])
        elif not len(eligible):
            cause = Text(
                N_(
                    "no applicant is eligible: none lists its county or province with a fitting "
                    "major and degree under the pairing (A3, A5)"
                )
            )
        elif in_bucket[b] >= problem.bucket_cap[b]:
            cause = Text(
                N_(
                    "the county's {bucket} quota is full (A2): its {units} units went to posts "
                    "whose placements cost the plan less"
                ),
                {"bucket": str(problem.bucket_kind[b]), "units": int(problem.bucket_cap[b])},
            )
        elif province_of(code) in why.service_full:
            cause = _dispatch_reached(province_of(code))
        else:
            cause = why.who(eligible)
        out.append(
            EmptyRelayPost(
                str(problem.post_id[p]), code, int(problem.post_open[p] - filled[p]), cause
            )
        )
    return tuple(out)


def _dispatch_reached(province: str) -> Text:
    return Text(
        N_("the dispatch target of {province} is reached (A6)"), {"province": Place(province)}
    )


def _places(codes: str) -> Place | Text | str:
    """``"110000, 320000"`` as places in a sentence (北京市（110000）、江苏省（320000）)."""
    parts = [c for c in codes.split(", ") if c]
    if not parts:
        return codes
    if len(parts) == 1:
        return Place(parts[0])
    return Text(
        N_("{first}, {rest}"), {"first": Place(parts[0]), "rest": _places(", ".join(parts[1:]))}
    )
