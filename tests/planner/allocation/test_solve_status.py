"""The status and gap of a solve (planner.allocation.status), on hand-computed values."""

from __future__ import annotations

import json
import math

import pytest

from planner.allocation.status import SolveStatus, absolute_gap, judge, relative_gap


def test_relative_gap_is_relative_to_the_value_with_at_least_one_below() -> None:
    assert relative_gap(101_217.0, 101_212.0) == pytest.approx(5 / 101_217)
    assert relative_gap(0.5, 0.0) == 0.5  # |value| < 1: divided by 1
    assert relative_gap(-200.0, -210.0) == pytest.approx(10 / 200)
    assert relative_gap(10.0, 12.0) == 0.0  # a bound above the value is no gap
    assert relative_gap(10.0, -math.inf) == math.inf
    assert relative_gap(10.0, math.nan) == math.inf


def test_absolute_gap_is_the_tolerance_at_a_value() -> None:
    assert absolute_gap(1e-4, 56_193.0) == pytest.approx(5.6193)
    assert absolute_gap(1e-4, -0.25) == pytest.approx(1e-4)


@pytest.mark.parametrize(
    ("objective", "bound", "kwargs", "status"),
    [
        (100.0, 100.0, {}, SolveStatus.OPTIMAL),
        (100_000.0, 99_995.0, {}, SolveStatus.WITHIN_TOLERANCE),  # gap 5e-5 <= 1e-4
        (100_000.0, 99_980.0, {}, SolveStatus.GAP_OPEN),  # gap 2e-4
        (100_000.0, 99_980.0, {"timed_out": True}, SolveStatus.TIME_LIMIT),
        (100.0, 100.0, {"converged": False}, SolveStatus.GAP_OPEN),
        (100.0, 100.0, {"converged": False, "timed_out": True}, SolveStatus.TIME_LIMIT),
        (100.0, 100.0, {"timed_out": True}, SolveStatus.OPTIMAL),  # optimal in time or not
        (100.0, -math.inf, {}, SolveStatus.GAP_OPEN),
    ],
)
def test_judge(objective: float, bound: float, kwargs: dict, status: SolveStatus) -> None:
    verdict = judge(objective, bound, 1e-4, **kwargs)
    assert verdict.status is status
    assert verdict.optimal == (status in ("optimal", "optimal within tolerance"))
    assert verdict.gap == relative_gap(objective, bound)


def test_the_status_is_written_as_its_string() -> None:
    assert json.dumps({"status": SolveStatus.TIME_LIMIT}) == '{"status": "time-limit"}'
    assert f"{SolveStatus.WITHIN_TOLERANCE}" == "optimal within tolerance"
