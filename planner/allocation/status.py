"""How an allocation solve ended: the proven gap and the status, judged in one place.

Every plan comes with a proven lower bound; the relative gap between its value and the bound
decides the status (style rule 5: a typed status, never an unchecked string). The parts of a
split problem, the plans made of min-cost flows and the price-and-branch solve are all
judged by :func:`judge`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_TIME_LIMIT = 300.0
"""Wall seconds an allocation may take unless told otherwise (the library, the solver, the
command line)."""
EXACT_GAP = 1e-9
"""A relative gap at most this is no gap: the plan is optimal, not just within tolerance."""


class SolveStatus(StrEnum):
    """How a solve ended, as ``summary.json`` writes it (the value is the string)."""

    OPTIMAL = "optimal"
    """The plan's value equals its proven bound."""
    WITHIN_TOLERANCE = "optimal within tolerance"
    """The gap is above :data:`EXACT_GAP` but within the solve's gap tolerance."""
    GAP_OPEN = "gap open"
    """The solve ended with a gap above the tolerance before its time limit."""
    TIME_LIMIT = "time-limit"
    """The time limit cut the solve short; the plan is valid, its bound proven."""

    @property
    def optimal(self) -> bool:
        """Whether the plan is proven optimal (within the tolerance)."""
        return self in (SolveStatus.OPTIMAL, SolveStatus.WITHIN_TOLERANCE)


def relative_gap(objective: float, bound: float) -> float:
    """The gap between a plan's value and its proven lower bound, relative to the value (at
    least 1 in the denominator); ``inf`` when there is no finite bound."""
    if not math.isfinite(bound):
        return math.inf
    return max(objective - bound, 0.0) / max(abs(objective), 1.0)


def absolute_gap(gap_tolerance: float, value: float) -> float:
    """The absolute gap that ``gap_tolerance`` (relative, as in :func:`relative_gap`) allows
    at ``value``."""
    return gap_tolerance * max(abs(value), 1.0)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The relative gap of a plan and the status it earns."""

    gap: float
    status: SolveStatus

    @property
    def optimal(self) -> bool:
        return self.status.optimal


def judge(
    objective: float,
    bound: float,
    gap_tolerance: float,
    *,
    converged: bool = True,
    timed_out: bool = False,
) -> Verdict:
    """The verdict on a plan of value ``objective`` with the lower ``bound``.

    Parameters
    ----------
    objective, bound : float
        The plan's value and the proven lower bound of every plan.
    gap_tolerance : float
        The relative gap (:func:`relative_gap`) at which the plan counts as optimal.
    converged : bool
        False when the solve did not finish its certificate (the pricing did not converge):
        then no gap makes the plan optimal.
    timed_out : bool
        Whether the time limit ended the solve; a plan that is not optimal then has the
        status ``time-limit`` instead of ``gap open``.
    """
    gap = relative_gap(objective, bound)
    if converged and gap <= gap_tolerance:
        return Verdict(
            gap, SolveStatus.OPTIMAL if gap <= EXACT_GAP else SolveStatus.WITHIN_TOLERANCE
        )
    return Verdict(gap, SolveStatus.TIME_LIMIT if timed_out else SolveStatus.GAP_OPEN)
