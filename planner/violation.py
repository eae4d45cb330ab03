"""A broken rule found by the library's own checkers (``plan.check()``, ``routes.check()``).

A :class:`Violation` names the rule by its label, the things it concerns and what was found
against what the rule expects. The labels are those of the planning model:

Allocation (section 2, :func:`planner.allocation.check.check_assignments`)
    ``A1`` one seat per applicant, a post's new volunteers within its open seats, known ids;
    ``A2`` quota buckets, barred counties, counties without a quota row;
    ``A3`` pairing and pair seats;
    ``A4`` the bachelor share per recruiting province;
    ``A5`` eligibility (majors, degree, health, preferences);
    ``A6`` dispatch and recruitment targets.

Routing (section 3, :func:`planner.routing.check.check_routes`)
    ``R1`` shift: a route leaves its station and is back within the station's shift;
    ``R2`` time windows: each visit's set-up and service lie inside the stop's window;
    ``R3`` daily capacity: a route serves at most its vehicle's clients a day;
    ``R4`` crew: a vehicle runs only on a campaign day on which its crew is staffed;
    ``R5`` vehicles per station and day: one route per vehicle-day, at most the station's
    staffed vehicles a day;
    ``R6`` served and demand: a stop's served clients are the sum of its visits and never
    exceed its demand;
    ``R7`` times: visits in order, arrivals, service and return consistent with the travel
    matrix, the set-up and the minutes a client;
    ``R8`` county: a station's vehicles serve only stops of its own county;
    ``R9`` unserved demand: every stop left short has a reason code that its situation bears
    out.

The modules that check them list each rule's exact reading.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule.

    Attributes
    ----------
    rule : str
        Label of the rule: ``"A1"`` ... ``"A6"`` (allocation) or ``"R1"`` ... ``"R9"``
        (routing), see the module docstring.
    subject : str
        The ids involved, e.g. ``"applicant A17 -> post P3"``, ``"county 431222 general
        bucket"``, ``"route S1-d03-v1"``, in the language of the moment when it was checked.
    message : str
        What was found against what the rule expects, with the numbers (in the same
        language).

    Examples
    --------
    >>> str(Violation("A1", "post P3", "3 new volunteers on 2 open seats"))
    'A1 post P3: 3 new volunteers on 2 open seats'
    """

    rule: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.subject}: {self.message}"
