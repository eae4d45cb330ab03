"""Fairness report on a hand-made plan with one wasted seat and one justified envy."""

from __future__ import annotations

from planner.allocation.fairness import fairness
from planner.allocation.problem import AllocationProblem
from planner.allocation.solver import solve_allocation
from tests.support.alloc_scenarios import (
    ApplicantRow,
    PostRow,
    QuotaRow,
    ScenarioRows,
    build_scenario,
)


def test_wasted_seat_and_justified_envy_by_hand() -> None:
    # County X (620102) has two education seats, county Y (620103) one education relay seat.
    # B (law) lists only X; C (education) lists X first, Y second.
    # Optimum: C fills the relay seat in Y (saves 1000), B takes one X seat (a misfit, +3).
    #   C at Y: -100 - 1000 + 10 (rank 2) + 5 (subsidy); B at X: -100 + 3 + 5.
    #   C at X instead would leave the relay seat empty (+1000): worse.
    # So C ranks X above his placement while X has a free seat (wasted seat), and the other
    # X seat is held by B, whose law major does not fit education while C's does (envy).
    rows = ScenarioRows(
        counties=[("620102", 100.0, 36.0), ("620103", 100.0, 36.0)],
        quotas=[QuotaRow("620102", 2), QuotaRow("620103", 1)],
        posts=[
            PostRow("PX1", "620102", "education", 1),
            PostRow("PX2", "620102", "education", 1),
            PostRow("PY", "620103", "education", 1, relay=True),
        ],
        applicants=[
            ApplicantRow("B", "110000", "bachelor", "law", ["620102"], 100.0, 36.0),
            ApplicantRow("C", "110000", "bachelor", "education", ["620102", "620103"], 100.0, 36.0),
        ],
        pairing=[("620000", "110000", -1)],
    )
    problem = AllocationProblem.from_scenario(build_scenario(rows))
    sol = solve_allocation(problem)
    placed = {
        str(problem.applicant_id[a]): str(problem.post_id[p]) for a, p in enumerate(sol.post_of)
    }
    assert placed["C"] == "PY" and placed["B"] in {"PX1", "PX2"}
    free = ({"PX1", "PX2"} - {placed["B"]}).pop()
    fair = fairness(problem, sol)
    wasted = {
        (str(problem.applicant_id[a]), str(problem.post_id[p]))
        for a, p in zip(fair.wasted_a, fair.wasted_p, strict=True)
    }
    envy = {
        (str(problem.applicant_id[a]), str(problem.post_id[p]), str(problem.applicant_id[j]))
        for a, p, j in zip(fair.envy_a, fair.envy_p, fair.envy_holder, strict=True)
    }
    assert wasted == {("C", free)}
    assert envy == {("C", placed["B"], "B")}


def test_no_envy_when_everyone_has_the_first_choice() -> None:
    rows = ScenarioRows(
        counties=[("620102", 100.0, 36.0)],
        quotas=[QuotaRow("620102", 2)],
        posts=[PostRow("P1", "620102", "education", 2)],
        applicants=[
            ApplicantRow("A", "110000", "bachelor", "education", ["620102"], 100.0, 36.0),
            ApplicantRow("B", "110000", "bachelor", "law", ["620102"], 100.0, 36.0),
        ],
        pairing=[("620000", "110000", -1)],
    )
    problem = AllocationProblem.from_scenario(build_scenario(rows))
    fair = fairness(problem, solve_allocation(problem))
    assert len(fair.wasted_a) == 0 and len(fair.envy_a) == 0
