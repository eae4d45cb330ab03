"""The allocation as a library call: :func:`allocate` a :class:`~planner.scenario.Scenario` into
a :class:`Plan`.

A plan holds the certified result (objective, proven bound, gap, status, the six weighted
terms) and the tables of a plan folder as DataFrames; :meth:`Plan.check` re-checks the hard
rules A1-A6 from the scenario's tables, and :meth:`Plan.write` writes the same folder as
``planner plan``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from planner.allocation.account import PlanAccount, Reason, build_account
from planner.allocation.arcs import ArcBuilder
from planner.allocation.check import check_assignments
from planner.allocation.fairness import Fairness, fairness
from planner.allocation.pinning import index_pins, restrict, solve_pinned, untouched_applicants
from planner.allocation.problem import AllocationProblem
from planner.allocation.solver import AllocationSolution, SolveStats, solve_allocation
from planner.allocation.status import DEFAULT_TIME_LIMIT, SolveStatus
from planner.allocation.summary import plan_summary, plan_tables, summary_texts, unassigned_table
from planner.backend import backend
from planner.diff import diff_assignments
from planner.explain import Explanation, Limits, explain
from planner.frames import ReadOnlyFrames
from planner.i18n import LANGUAGES, N_, Text, _, language, speaking
from planner.issues import ScenarioError
from planner.pins import ACTIONS, Pins
from planner.routing.crews import hand_out_crews, mobile_volunteers
from planner.scenario import PreviousPlan, Scenario
from planner.summaries import PlanSummary, Terms
from planner.violation import Violation


@dataclass(frozen=True, slots=True)
class AllocationParams:
    """How to solve an allocation.

    Attributes
    ----------
    time_limit : float
        Wall seconds for the solve; the best plan found and its proven bound are kept.
    gap_tolerance : float
        Relative gap at which a plan counts as optimal (1e-4 is 0.01%).
    workers : int or None
        Processes for the independent parts of the pairing; ``None``: one per core from
        5,000 applicants on.
    """

    time_limit: float = DEFAULT_TIME_LIMIT
    gap_tolerance: float = 1e-4
    workers: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A solved allocation of a scenario.

    Attributes
    ----------
    scenario : Scenario
        The scenario it was solved for (with the previous plan, in a re-plan).
    problem : AllocationProblem
    solution : AllocationSolution
        The solver's result (indices into ``problem``).
    account : PlanAccount
        Terms, rule usage, budget and the reasons behind every gap.
    fairness_pairs : Fairness
        Wasted seats and justified envy as index arrays.
    tables : ReadOnlyFrames
        ``assignments``, ``unassigned``, ``seats``, ``fairness`` and, in a re-plan, ``moves``:
        the CSVs of the plan folder (each access gives a copy: a plan is a value).
    summary : PlanSummary
        ``summary.json`` of the plan folder, typed (``summary.counts.placed``).
    language : str
        The language of the texts for people in ``tables`` and ``summary`` (the reasons of
        unplaced applicants, the causes of unfilled quota and empty relay seats): the
        language of the moment when the plan was made. :meth:`write` writes them in the
        language of the moment when it writes.
    """

    scenario: Scenario
    problem: AllocationProblem
    solution: AllocationSolution
    account: PlanAccount
    fairness_pairs: Fairness
    tables: ReadOnlyFrames
    summary: PlanSummary
    language: str = "en"
    pins: Pins | None = None
    """The office's decisions this plan was solved under (:func:`allocate`'s ``pins``)."""
    pins_cost: float | None = None
    """With pins and a baseline: this objective less the baseline's, the exact price of
    the pins (both certified optima)."""

    @property
    def objective(self) -> float:
        """The plan's value (planning model section 2, terms 1-6)."""
        return self.solution.objective

    @property
    def bound(self) -> float:
        """A proven lower bound of every plan's value."""
        return self.solution.bound

    @property
    def gap(self) -> float:
        """Relative gap between the objective and the bound."""
        return self.solution.gap

    @property
    def status(self) -> SolveStatus:
        """``optimal``, ``optimal within tolerance``, ``gap open`` or ``time-limit`` (a
        :class:`~planner.allocation.status.SolveStatus`, a string)."""
        return self.solution.stats.status

    @property
    def optimal(self) -> bool:
        """True when the gap is within the tolerance (a certified optimum)."""
        return self.solution.optimal

    @property
    def terms(self) -> Terms:
        """The six weighted objective terms (their ``total`` is the objective)."""
        return self.account.terms

    @property
    def assignments(self) -> pd.DataFrame:
        """One row per placed volunteer (the columns of ``assignments.csv``)."""
        return self.tables["assignments"]

    @property
    def unassigned(self) -> pd.DataFrame:
        """Applicants left unplaced and why (``unassigned.csv``)."""
        return self.tables["unassigned"]

    @property
    def seats(self) -> pd.DataFrame:
        """Every post: seats, continuing, open, filled, empty relay seats (``seats.csv``)."""
        return self.tables["seats"]

    @property
    def fairness(self) -> pd.DataFrame:
        """Wasted seats and justified envy, one row each (``fairness.csv``)."""
        return self.tables["fairness"]

    @property
    def moves(self) -> pd.DataFrame | None:
        """In a re-plan: every volunteer of the previous plan, kept, moved, unplaced or gone."""
        return self.tables.get("moves")

    def check(self) -> list[Violation]:
        """Re-check the hard rules A1-A6 on the assignments, from the scenario's tables
        (not from the solver's model); an empty list for a valid plan."""
        a = self.assignments
        return check_assignments(
            self.scenario.data,
            a["applicant_id"].to_numpy(str),
            a["post_id"].to_numpy(str),
        )

    def explain(self, applicant_id: str, params: AllocationParams | None = None) -> Explanation:
        """Why ``applicant_id`` is where this plan put him: his placement, its cost terms and
        every preference's best post with its exact price (:func:`planner.explain.explain`;
        each alternative is a certified solve under one pin, with ``params``)."""
        params = params or AllocationParams()
        limits = Limits(params.time_limit, params.gap_tolerance, params.workers)
        return explain(self, applicant_id, limits)

    def diff(self, other: Plan) -> pd.DataFrame:
        """Who changed between ``other`` (before) and this plan (after): applicant_id,
        before_post, after_post, change (kept, moved, placed, unplaced)."""
        return diff_assignments(other.assignments, self.assignments)

    def crews(self) -> dict[str, int]:
        """Volunteers crewing each station (by station id): the plan's ``mobile_service``
        volunteers of each county, new and continuing, handed to its stations in file order.

        Raises
        ------
        ValueError
            When the scenario has no stations.
        """
        stations = self.scenario.data.stations
        if stations is None:
            raise ValueError(_("the scenario has no stations; a plan crews only stations"))
        return hand_out_crews(stations, mobile_volunteers(self.assignments, self.seats))

    def as_previous(self) -> PreviousPlan:
        """The assignments as the previous plan of a re-plan."""
        a = self.assignments
        return PreviousPlan(a["applicant_id"].to_numpy(str), a["post_id"].to_numpy(str))

    def write(self, folder: str | Path) -> Path:
        """Write the plan folder (``assignments.csv`` ... ``summary.json``, ``plan.xlsx``), as
        ``planner plan`` does, its texts for people in the language of the moment; returns the
        folder."""
        return backend().write_plan(self._in_language(), Path(folder))

    def _in_language(self) -> Plan:
        """The plan with its texts for people in the language of the moment."""
        lang = language()
        if lang == self.language:
            return self
        tables = ReadOnlyFrames(
            {**self.tables, "unassigned": unassigned_table(self.problem, self.account)}
        )
        summary = dataclasses.replace(
            self.summary, **summary_texts(self.account, self.scenario.report)
        )
        return dataclasses.replace(self, tables=tables, summary=summary, language=lang)

    @classmethod
    def from_files(
        cls, scenario: Scenario, files: Mapping[str, pd.DataFrame], summary: PlanSummary
    ) -> Plan:
        """The plan that wrote a plan folder, rebuilt from its scenario, its files (text
        frames: ``assignments`` and, in a re-plan, ``moves``) and its summary; the I/O
        layer's ``read_plan`` reads them (:func:`planner.read_plan`).

        The assignments give the solution, the summary the solve's figures; the account, the
        fairness pairs and the tables are recomputed from them and must write the folder's
        CSV files byte for byte (in the language they were written in).

        Raises
        ------
        ValueError
            When the folder's files are not what this scenario and these assignments give
            (another scenario, or files changed by hand).
        """
        files = dict(files)
        pins = Pins.from_frame(files.pop("pins")) if "pins" in files else None
        moves = files.get("moves")
        if moves is not None:
            previous = PreviousPlan(
                moves["applicant_id"].to_numpy(str), moves["previous_post_id"].to_numpy(str)
            )
            scenario = scenario.with_previous(previous)
        data = scenario.data
        problem = AllocationProblem.from_scenario(data)
        solution = _solution_of(problem, files["assignments"], summary)
        account, fair = _account(problem, solution, pins)
        for lang in (language(), *LANGUAGES):
            with speaking(lang):
                tables = plan_tables(data, problem, solution, account, fair)
            if all(_same_csv(tables.get(name), frame) for name, frame in files.items()):
                return cls(
                    scenario,
                    problem,
                    solution,
                    account,
                    fair,
                    ReadOnlyFrames(tables),
                    summary,
                    lang,
                    pins,
                    summary.pins_cost,
                )
        differ = sorted(n for n, f in files.items() if not _same_csv(tables.get(n), f))
        raise ValueError(
            f"the plan folder's {', '.join(differ)} differ from what scenario "
            f"{scenario.name!r} and its assignments give: not this scenario's plan, or changed"
        )

    def __repr__(self) -> str:
        placed = len(self.assignments)
        return (
            f"<Plan of {self.scenario.name!r}: {self.status}, objective {self.objective:,.2f}, "
            f"bound {self.bound:,.2f}, gap {self.gap:.4%}, {placed:,} placed>"
        )


def _solution_of(
    problem: AllocationProblem, assignments: pd.DataFrame, summary: PlanSummary
) -> AllocationSolution:
    """The solution of a plan folder: its assignments, with the figures of its summary."""
    index_a = {str(a): i for i, a in enumerate(problem.applicant_id)}
    index_p = {str(p): i for i, p in enumerate(problem.post_id)}
    try:
        a = np.array([index_a[x] for x in assignments["applicant_id"]], dtype=np.int64)
        p = np.array([index_p[x] for x in assignments["post_id"]], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"assignments.csv names {exc} that the scenario lacks") from None
    post_of = np.full(problem.n_applicants, -1, dtype=np.int64)
    post_of[a] = p
    placed = np.flatnonzero(post_of >= 0)
    arcs = ArcBuilder(problem).arcs_for_pairs(placed, post_of[placed])
    if len(arcs) != len(placed):
        raise ValueError("assignments.csv places applicants on posts they are not eligible for")
    stats = SolveStats(
        build_seconds=summary.build_seconds,
        solve_seconds=summary.solve_seconds,
        pricing_rounds=summary.pricing_rounds,
        columns=summary.columns,
        lp_bound=summary.lp_bound,
        status=SolveStatus(summary.status),
    )
    return AllocationSolution(
        post_of,
        arcs,
        summary.objective,
        summary.lower_bound,
        summary.optimal,
        stats,
        list(summary.notes),
    )


def _same_csv(ours: pd.DataFrame | None, text: pd.DataFrame) -> bool:
    """Whether a table writes the CSV that was read as ``text`` (every cell a string)."""
    if ours is None:
        return False
    return bool(ours.to_csv(index=False) == text.to_csv(index=False))


def allocate(
    scenario: Scenario,
    params: AllocationParams | None = None,
    previous: Plan | PreviousPlan | None = None,
    pins: Pins | None = None,
    baseline: Plan | None = None,
) -> Plan:
    """Place applicants on posts under the hard rules A1-A6, certified optimal.

    Parameters
    ----------
    scenario
        A valid scenario with allocation tables (quotas, posts, applicants, pairing, targets).
    params
        Time limit, gap tolerance, processes.
    previous
        A plan to re-plan from (objective term 6 counts who moves); default: the scenario's
        own ``previous_plan`` table, if any.
    pins
        The office's decisions (:class:`~planner.pins.Pins`): the plan is the certified
        optimum under them (``docs/allocation.md``, "Pins").
    baseline
        The plan of this scenario the pins were set on: only the independent parts of the
        pairing that a pin touches are solved again, and ``pins_cost`` is the objective
        less the baseline's.

    Raises
    ------
    ScenarioError
        When the scenario has errors or no allocation tables.
    PinError
        When a pin breaks a hard rule by itself, or the pins cannot hold together.
    """
    params = params or AllocationParams()
    if previous is not None:
        scenario = scenario.with_previous(
            previous.as_previous() if isinstance(previous, Plan) else previous
        )
    data = scenario.data
    if not data.has_allocation_tables:
        raise ScenarioError(
            scenario.report, Text(N_("the scenario has no allocation tables (posts, applicants)"))
        )
    t0 = time.perf_counter()
    problem = AllocationProblem.from_scenario(data)
    if pins:
        return _allocate_pinned(scenario, problem, params, pins, baseline, t0)
    solution = solve_allocation(
        problem,
        time_limit=params.time_limit,
        gap_tolerance=params.gap_tolerance,
        workers=params.workers,
    )
    account = build_account(problem, solution)
    fair = fairness(problem, solution)
    tables, summary = _tables_and_summary(scenario, problem, solution, account, fair, t0)
    return Plan(
        scenario, problem, solution, account, fair, ReadOnlyFrames(tables), summary, language()
    )


def _tables_and_summary(
    scenario: Scenario,
    problem: AllocationProblem,
    solution: AllocationSolution,
    account: PlanAccount,
    fair: Fairness,
    t0: float,
) -> tuple[dict[str, pd.DataFrame], PlanSummary]:
    """A solved plan's tables and its summary (seconds counted from ``t0``)."""
    tables = plan_tables(scenario.data, problem, solution, account, fair)
    summary = plan_summary(
        scenario.data,
        problem,
        solution,
        account,
        fair,
        scenario.report,
        scenario.source,
        time.perf_counter() - t0,
        tables.get("moves"),
    )
    return tables, summary


def _allocate_pinned(
    scenario: Scenario,
    problem: AllocationProblem,
    params: AllocationParams,
    pins: Pins,
    baseline: Plan | None,
    t0: float,
) -> Plan:
    """:func:`allocate` under the office's pins (:mod:`planner.allocation.pinning`)."""
    if baseline is not None and not _same_problem(baseline.problem, problem):
        raise ValueError("the baseline is a plan of another scenario (or of another previous plan)")
    solved = solve_pinned(
        problem,
        pins,
        params.time_limit,
        params.gap_tolerance,
        params.workers,
        baseline.solution if baseline is not None else None,
    )
    parts = f"{solved.parts_solved} part(s) of the pairing solved under {len(pins)} pin(s)"
    if baseline is not None:
        parts += "; the others kept from the baseline"
    solution = dataclasses.replace(solved.solution, notes=[parts, *solved.solution.notes])
    kept = None
    if baseline is not None:  # the parts no pin touches keep the baseline's fairness pairs
        kept = (baseline.fairness_pairs, untouched_applicants(problem, pins, baseline.pins))
    account, fair = _account(problem, solution, pins, kept)
    tables, summary = _tables_and_summary(scenario, problem, solution, account, fair, t0)
    cost = solution.objective - baseline.objective if baseline is not None else None
    summary = dataclasses.replace(
        summary,
        pins={a: sum(1 for x in pins.items if x.action == a) for a in ACTIONS},
        baseline_objective=baseline.objective if baseline is not None else None,
        pins_cost=cost,
    )
    return Plan(
        scenario,
        problem,
        solution,
        account,
        fair,
        ReadOnlyFrames(tables),
        summary,
        language(),
        pins,
        cost,
    )


def _account(
    problem: AllocationProblem,
    solution: AllocationSolution,
    pins: Pins | None,
    kept: tuple[Fairness, np.ndarray] | None = None,
) -> tuple[PlanAccount, Fairness]:
    """The account and the fairness pairs of a plan; under pins, an excluded applicant's
    reason is the pin, and fairness looks only at the placements the pins leave open."""
    account = build_account(problem, solution)
    if not pins:
        return account, fairness(problem, solution)
    ix = index_pins(problem, pins)
    excluded = {int(a) for a in ix.excluded}
    reasons = {
        a: Reason("pinned-exclude") if a in excluded else r
        for a, r in account.unassigned_reason.items()
    }
    account = dataclasses.replace(account, unassigned_reason=reasons)
    return account, fairness(restrict(problem, ix), solution, kept)


def _same_problem(a: AllocationProblem, b: AllocationProblem) -> bool:
    """Whether two problems are of the same scenario (ids, seats, quotas and previous plan)."""
    return (
        np.array_equal(a.applicant_id, b.applicant_id)
        and np.array_equal(a.post_id, b.post_id)
        and np.array_equal(a.post_open, b.post_open)
        and np.array_equal(a.bucket_cap, b.bucket_cap)
        and np.array_equal(a.app_prev_post, b.app_prev_post)
        and a.constant() == b.constant()
    )
