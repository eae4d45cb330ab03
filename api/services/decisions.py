"""The office's decisions on a plan (issue 25), without HTTP: the pending set, its checks, the
versions of a scenario, two versions compared, and an applicant's explanation.

- **Pending decisions** (table ``pending_decisions``, migration ``0009``): an office adds
  assign / forbid / close / exclude decisions (:class:`planner.pins.Pin`) to a plan, one at a
  time. Each is checked as it is added, together with the decisions already pending and those
  the plan was itself made under (its ``pins.csv``), by the library's pin checks
  (:func:`planner.allocation.pinning.check_pins`): a decision that breaks a hard rule by
  itself, or with the others (more pins on a post than its seats, a contradiction), is
  refused with :class:`~api.core.errors.Invalid` whose message names the decision and the
  rule. :func:`replan_pins` gives what a re-plan sends: the plan's own pins and the pending
  ones (the office's decisions accumulate from version to version).
- **Versions** (:func:`versions`): the plans of a scenario, oldest first, with their pins,
  the plan they were set on, their objective and the price of their pins.
- **Comparison** (:func:`compare`): who moved, who is newly placed, who is no longer placed
  (:func:`planner.diff.diff_assignments`) and the counties whose numbers changed.
- **Explanation** (:func:`explanation`): :meth:`planner.Plan.explain` of a plan read back
  from its folder.

Every function checks the caller's scope first (a plan of a scenario the caller does not see
is :class:`~api.core.errors.NotFound`, as everywhere in the service).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.core.api_keys import Principal
from api.core.errors import Conflict, Invalid, NotFound
from api.core.settings import Settings
from api.db.models import JobRow, PendingDecision, PlanRow
from api.services.plans import get_plan
from api.services.scope import get_scenario
from api.services.storage import plan_dir
from planner.i18n import N_, Text
from planner.issues import Issue
from planner.labels import PIN_ACTION
from planner.pins import ACTIONS, PIN_COLUMNS, PINS_FILE, Pin, Pins

if TYPE_CHECKING:
    from planner.explain import Explanation
    from planner.plan import Plan

MAX_PENDING = 500
"""Most decisions pending on one plan (each is checked against all the others)."""

PIN_WORDS: dict[str, str] = {
    "assign": N_("keep {applicant} on post {post}"),
    "forbid": N_("never place {applicant} on post {post}"),
    "close": N_("close post {post}"),
    "exclude": N_("do not place {applicant}"),
}
"""A decision in words (the library's ``assign A1 -> P3`` is for files and logs)."""

RULES: dict[str, str] = {
    "A1": N_("A1: the seats of a post"),
    "A2": N_("A2: the county's quota"),
    "A3": N_("A3: the pairing of provinces"),
    "A4": N_("A4: the bachelor share"),
    "A5": N_("A5: who may serve on a post (degree, major, health check, preferences)"),
    "A6": N_("A6: the dispatch and recruitment targets"),
    "pin-conflict": N_("decisions that contradict each other"),
    "pin-unknown": N_("an applicant or post the scenario does not have"),
}
"""The rule a refused decision breaks, as the refusal names it."""


def pin_text(pin: Pin) -> Text:
    """A decision in words, in the reader's language."""
    return Text(PIN_WORDS[pin.action], {"applicant": pin.applicant_id, "post": pin.post_id})


def rule_text(rule: str) -> Text:
    """The name of a rule a decision breaks (the code itself when unnamed)."""
    return Text(RULES[rule]) if rule in RULES else Text(N_("{rule}"), {"rule": rule})


@dataclass(frozen=True, slots=True)
class Decision:
    """A pending decision of a plan (``id``: its row, for the remove button)."""

    id: int
    pin: Pin
    created_at: datetime | None

    @property
    def text(self) -> Text:
        """The decision in words."""
        return pin_text(self.pin)


# --- scope and folders --------------------------------------------------------------------


def allocation_folder(settings: Settings, plan_id: str) -> Path:
    """The folder of a plan that has an allocation (else :class:`Invalid`)."""
    folder = plan_dir(settings, plan_id)
    if not (folder / "assignments.csv").is_file():
        raise Invalid(N_("plan {id!r} has no allocation"), id=plan_id)
    return folder


def own_pins(folder: Path) -> list[Pin]:
    """The decisions a plan was itself made under (its ``pins.csv``; none without)."""
    path = folder / PINS_FILE
    if not path.is_file():
        return []
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return Pins.from_frame(frame, PINS_FILE).items


@functools.lru_cache(maxsize=4)
def _read_plan(folder: str, mtime_ns: int) -> Plan:
    import planner

    return planner.read_plan(Path(folder))


def loaded_plan(folder: Path) -> Plan:
    """The plan of a folder read back (:func:`planner.read_plan`), kept for the next call: a
    finished plan never changes."""
    return _read_plan(str(folder), (folder / "summary.json").stat().st_mtime_ns)


# --- the pending set ----------------------------------------------------------------------


def pending(session: Session, who: Principal, plan_id: str) -> list[Decision]:
    """The decisions pending on a plan, in the order they were added."""
    get_plan(session, who, plan_id)
    rows = session.scalars(
        select(PendingDecision)
        .where(PendingDecision.plan_id == plan_id)
        .order_by(PendingDecision.id)
    ).all()
    return [Decision(r.id, Pin(r.action, r.applicant_id, r.post_id), r.created_at) for r in rows]


def parse(action: str, applicant_id: str, post_id: str) -> Pin:
    """A decision from a form: the action by its code or its label in either language, the
    applicant (not for close) and the post (not for exclude).

    Raises
    ------
    Invalid
        Naming the field and what it expects.
    """
    code = PIN_ACTION.code(action.strip()) if action.strip() else None
    if code is None:
        raise Invalid(
            N_("{value!r} is no decision; expected one of {expected}"),
            value=action,
            expected=PIN_ACTION.listing(),
        )
    aid = "" if code == "close" else applicant_id.strip()
    pid = "" if code == "exclude" else post_id.strip()
    if code != "close" and not aid:
        raise Invalid(
            N_("the decision {action} needs an applicant"), action=Text(PIN_ACTION.labels[code])
        )
    if code != "exclude" and not pid:
        raise Invalid(
            N_("the decision {action} needs a post"), action=Text(PIN_ACTION.labels[code])
        )
    return Pin(code, aid, pid)


def add(session: Session, settings: Settings, who: Principal, plan_id: str, pin: Pin) -> Decision:
    """Add ``pin`` to the plan's pending set once it keeps the rules with the others.

    Raises
    ------
    NotFound
        A plan the caller does not see.
    Invalid
        The plan has no allocation; the decision breaks a rule (the message names the
        decision and the rule; ``extra`` has ``rule`` and ``rule_name``); too many pending.
    Conflict
        The same decision is pending already, or the plan was made under it.
    """
    get_plan(session, who, plan_id)
    folder = allocation_folder(settings, plan_id)
    others = own_pins(folder) + [d.pin for d in pending(session, who, plan_id)]
    key = (pin.action, pin.applicant_id, pin.post_id)
    if any((p.action, p.applicant_id, p.post_id) == key for p in others):
        raise Conflict(N_("{pin}: this decision is taken already"), pin=pin_text(pin))
    if len(others) >= MAX_PENDING:
        raise Invalid(N_("at most {n} decisions on one plan"), n=MAX_PENDING)
    twice = [
        p
        for p in others
        if p.action == "assign" == pin.action and p.applicant_id == pin.applicant_id
    ]
    if twice:
        raise Invalid(
            N_("{pin} contradicts {other}"),
            extra={"rule": "pin-conflict", "rule_name": rule_text("pin-conflict")},
            audit="refused pin-conflict",
            pin=pin_text(pin),
            other=pin_text(twice[0]),
        )
    refusal = check(loaded_plan(folder), others, pin)
    if refusal is not None:
        raise refusal
    row = PendingDecision(
        plan_id=plan_id,
        action=pin.action,
        applicant_id=pin.applicant_id,
        post_id=pin.post_id,
        created_by=who.key_id,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # the same decision sent twice at once
        session.rollback()
        raise Conflict(N_("{pin}: this decision is taken already"), pin=pin_text(pin)) from None
    return Decision(row.id, pin, row.created_at)


def check(plan: Plan, others: Sequence[Pin], pin: Pin) -> Invalid | None:
    """The refusal of ``pin`` added to ``others`` on ``plan`` (None when it keeps the rules):
    the first issue :func:`~planner.allocation.pinning.check_pins` finds with it."""
    from planner.allocation.pinning import check_pins

    items = [Pin(p.action, p.applicant_id, p.post_id, k + 2) for k, p in enumerate(others)]
    line = len(items) + 2
    items.append(Pin(pin.action, pin.applicant_id, pin.post_id, line))
    report = check_pins(plan.problem, Pins.of(items))
    mine = [i for i in report.errors if i.line == line]
    if not mine:
        return None
    issue = mine[0]
    return Invalid(
        _in_words(issue, items),
        extra={"rule": issue.rule, "rule_name": rule_text(issue.rule)},
        audit=f"refused {issue.rule}",
    )


def _in_words(issue: Issue, items: Sequence[Pin]) -> Text:
    """The issue's text with each decision it names (``assign A1 -> P3``) in words."""
    words = {p.describe(): pin_text(p) for p in items}
    fields: dict[str, Any] = {
        k: words.get(v, v) if isinstance(v, str) else v for k, v in issue.text.fields.items()
    }
    return Text(issue.text.template, fields)


def remove(session: Session, who: Principal, plan_id: str, decision_id: int) -> Decision:
    """Take a decision out of the plan's pending set (:class:`NotFound` when not there)."""
    get_plan(session, who, plan_id)
    row = session.get(PendingDecision, decision_id)
    if row is None or row.plan_id != plan_id:
        raise NotFound(N_("no decision {id!r} on this plan"), id=str(decision_id))
    gone = Decision(row.id, Pin(row.action, row.applicant_id, row.post_id), row.created_at)
    session.delete(row)
    session.commit()
    return gone


def replan_pins(
    session: Session, settings: Settings, who: Principal, plan_id: str
) -> list[dict[str, str]]:
    """What a re-plan of the plan with its decisions sends as ``pins``: the plan's own pins and
    the pending ones, as ``pins.csv`` rows (:class:`Invalid` when nothing is pending)."""
    folder = allocation_folder(settings, plan_id)
    waiting = pending(session, who, plan_id)
    if not waiting:
        raise Invalid(N_("no decision is pending on this plan; add one from the table first"))
    pins = own_pins(folder) + [d.pin for d in waiting]
    return [
        dict(zip(PIN_COLUMNS, (p.action, p.applicant_id, p.post_id), strict=True)) for p in pins
    ]


def clear(session: Session, plan_id: str) -> int:
    """Empty a plan's pending set (its decisions went into a re-plan); how many there were."""
    gone = session.execute(delete(PendingDecision).where(PendingDecision.plan_id == plan_id))
    session.commit()
    return int(getattr(gone, "rowcount", 0) or 0)


# --- versions, comparison, explanation ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Version:
    """One plan of a scenario, as the versions page lists it."""

    number: int
    plan_id: str
    created_at: datetime
    baseline_id: str | None
    pins: list[Pin]
    objective: float | None
    pins_cost: float | None
    placed: int | None
    status: str


def versions(
    session: Session, settings: Settings, who: Principal, scenario_id: str
) -> list[Version]:
    """The plans of a scenario the caller sees, oldest first, numbered from 1."""
    get_scenario(session, who, scenario_id)
    rows = session.execute(
        select(PlanRow, JobRow)
        .join(JobRow, PlanRow.job_id == JobRow.id)
        .where(PlanRow.scenario_id == scenario_id)
        .order_by(PlanRow.created_at, PlanRow.id)
    ).all()
    out = []
    for k, (plan, job) in enumerate(rows, start=1):
        folder = plan_dir(settings, plan.id)
        summary = _summary(folder)
        options = job.options or {}
        out.append(
            Version(
                number=k,
                plan_id=plan.id,
                created_at=plan.created_at,
                baseline_id=options.get("baseline_plan_id"),
                pins=own_pins(folder) if summary is not None else [],
                objective=summary.objective if summary is not None else None,
                pins_cost=summary.pins_cost if summary is not None else None,
                placed=summary.counts.placed if summary is not None else None,
                status=summary.status if summary is not None else "",
            )
        )
    return out


def _summary(folder: Path) -> Any:
    from geodata.planfolder import read_summary

    if not (folder / "assignments.csv").is_file():
        return None
    return read_summary(folder).plan


CHANGED = ("moved", "placed", "unplaced")
"""The changes a comparison lists (``kept`` is counted, not listed)."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two versions of a plan side by side.

    Attributes
    ----------
    before, after : str
        The plans' ids.
    counts : dict
        Applicants kept, moved, newly placed and no longer placed.
    rows : DataFrame
        One row per applicant who moved, is newly placed or no longer placed: applicant_id,
        change, before_post, after_post, before_county, after_county.
    counties : DataFrame
        Counties whose number of placed volunteers changed: county_code, before, after.
    """

    before: str
    after: str
    counts: dict[str, int]
    rows: pd.DataFrame
    counties: pd.DataFrame


def compare(
    session: Session, settings: Settings, who: Principal, after_id: str, before_id: str
) -> Comparison:
    """Plan ``before_id`` against plan ``after_id`` (both of one scenario the caller sees)."""
    from geodata.planfolder import read_table
    from planner.diff import CHANGES, diff_assignments

    after, _ = get_plan(session, who, after_id)
    before, _ = get_plan(session, who, before_id)
    if after.scenario_id != before.scenario_id:
        raise Invalid(
            N_("plans {a!r} and {b!r} are of different scenarios"), a=after_id, b=before_id
        )
    tables = [
        read_table(
            allocation_folder(settings, p) / "assignments.csv",
            ("applicant_id", "post_id", "county_code"),
        )
        for p in (before_id, after_id)
    ]
    d = diff_assignments(tables[0], tables[1])
    counts = {c: int((d["change"] == c).sum()) for c in CHANGES}
    county: dict[str, str] = {}
    for t in tables:
        county.update(zip(t["post_id"].astype(str), t["county_code"].astype(str), strict=True))
    rows = d[d["change"].isin(CHANGED)].copy()
    rows["before_county"] = [county.get(p, "") for p in rows["before_post"]]
    rows["after_county"] = [county.get(p, "") for p in rows["after_post"]]
    n = [t["county_code"].astype(str).value_counts() for t in tables]
    codes = sorted(set(n[0].index) | set(n[1].index))
    counties = pd.DataFrame(
        {
            "county_code": codes,
            "before": [int(n[0].get(c, 0)) for c in codes],
            "after": [int(n[1].get(c, 0)) for c in codes],
        }
    )
    counties = counties[counties["before"] != counties["after"]].reset_index(drop=True)
    return Comparison(before_id, after_id, counts, rows.reset_index(drop=True), counties)


def under_own_pins(plan: Plan) -> Plan:
    """The plan whose problem keeps the plan's own close, forbid and exclude pins
    (:func:`planner.allocation.pinning.restrict`), so that an explanation prices each
    alternative under them (a closed post is no alternative). The objective of every plan
    keeping them is unchanged, so the plan stays the optimum of its problem. Its assign pins
    are not held in the alternatives (``explain`` prices one pin at a time)."""
    if not plan.pins:
        return plan
    from planner.allocation.pinning import index_pins, restrict

    pins = plan.pins
    kept = Pins(forbid=pins.forbid, close_posts=pins.close_posts, exclude=pins.exclude)
    return dataclasses.replace(plan, problem=restrict(plan.problem, index_pins(plan.problem, kept)))


def explanation(
    session: Session, settings: Settings, who: Principal, plan_id: str, applicant_id: str
) -> Explanation:
    """Why an applicant is where the plan put him (:meth:`planner.Plan.explain`, each
    alternative a certified solve within the service's time limit, on one worker).

    Raises
    ------
    NotFound
        A plan the caller does not see, or no such applicant in it.
    Invalid
        A plan without allocation, or one that cannot be explained (a re-plan).
    """
    from planner.plan import AllocationParams

    get_plan(session, who, plan_id)
    plan = under_own_pins(loaded_plan(allocation_folder(settings, plan_id)))
    params = AllocationParams(time_limit=settings.job_time_limit, workers=1)
    try:
        return plan.explain(applicant_id, params)
    except KeyError:
        raise NotFound(N_("no applicant {id!r} in this plan"), id=applicant_id) from None
    except ValueError as exc:
        raise Invalid(N_("{problem}"), problem=str(exc)) from None


__all__ = [
    "ACTIONS",
    "Comparison",
    "Decision",
    "Version",
    "add",
    "clear",
    "compare",
    "explanation",
    "pending",
    "replan_pins",
    "versions",
]
