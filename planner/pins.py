"""The office's decisions on a plan ("pins"): who must go where, which pair never, which post
offers no seat, which applicant is not placed.

:class:`Pins` is a value: four kinds of decision, each a :class:`Pin` (action, applicant,
post). ``planner.allocate(sc, params, pins=pins, baseline=plan)`` solves the scenario under
them to a certified optimum (:mod:`planner.allocation.pinning`); a pin that breaks a hard rule
by itself, or pins that cannot hold together, are refused with a :class:`PinError` whose
report names each pin (its line in ``pins.csv``, or its place in the order assign, forbid,
close, exclude) and the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from planner.i18n import N_, Text
from planner.issues import Report, ScenarioError

ACTIONS = ("assign", "forbid", "close", "exclude")
"""The four actions of a pin, as ``pins.csv`` writes them."""
PINS_FILE = "pins.csv"
PIN_COLUMNS = ("action", "applicant_id", "post_id")


@dataclass(frozen=True, slots=True)
class Pin:
    """One decision: ``assign`` (applicant on post), ``forbid`` (never this pair), ``close``
    (the post takes no new volunteer; ``applicant_id`` is ""), ``exclude`` (the applicant is
    not placed; ``post_id`` is "")."""

    action: str
    applicant_id: str = ""
    post_id: str = ""
    line: int | None = None
    """Line in ``pins.csv`` (the header is line 1), when read from a file."""

    def describe(self) -> str:
        """``assign A17 -> P3``, ``close P3``, ``exclude A17``, for messages."""
        if self.action == "close":
            return f"close {self.post_id}"
        if self.action == "exclude":
            return f"exclude {self.applicant_id}"
        return f"{self.action} {self.applicant_id} -> {self.post_id}"


@dataclass(frozen=True, slots=True)
class Pins:
    """The office's decisions on a plan.

    Parameters
    ----------
    assign : mapping applicant id -> post id
        This applicant is placed on this post.
    forbid : iterable of (applicant id, post id)
        This applicant is never placed on this post.
    close_posts : iterable of post ids
        These posts take no new volunteer (their continuing volunteers stay; their empty
        relay seats still count in the objective).
    exclude : iterable of applicant ids
        These applicants are not placed.
    """

    assign: Mapping[str, str] = field(default_factory=dict)
    forbid: Iterable[tuple[str, str]] = ()
    close_posts: Iterable[str] = ()
    exclude: Iterable[str] = ()
    lines: tuple[int | None, ...] = ()
    """Line of each pin of :attr:`items` in ``pins.csv`` (:meth:`from_frame`), else empty."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "assign", {str(k): str(v) for k, v in self.assign.items()})
        object.__setattr__(self, "forbid", tuple((str(a), str(p)) for a, p in self.forbid))
        object.__setattr__(self, "close_posts", tuple(str(p) for p in self.close_posts))
        object.__setattr__(self, "exclude", tuple(str(a) for a in self.exclude))

    @property
    def items(self) -> list[Pin]:
        """Every pin, in the order assign, forbid, close, exclude."""
        pins = [Pin("assign", a, p) for a, p in self.assign.items()]
        pins += [Pin("forbid", a, p) for a, p in self.forbid]
        pins += [Pin("close", "", p) for p in self.close_posts]
        pins += [Pin("exclude", a, "") for a in self.exclude]
        if self.lines:
            pins = [
                Pin(x.action, x.applicant_id, x.post_id, line)
                for x, line in zip(pins, self.lines, strict=True)
            ]
        return pins

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return len(self) > 0

    def without(self, drop: Iterable[Pin]) -> Pins:
        """These pins without ``drop`` (compared by action, applicant and post)."""
        gone = {(p.action, p.applicant_id, p.post_id) for p in drop}
        return Pins.of([p for p in self.items if (p.action, p.applicant_id, p.post_id) not in gone])

    @staticmethod
    def of(items: Iterable[Pin]) -> Pins:
        """The pins of a list of :class:`Pin` (their lines kept)."""
        items = list(items)
        by = {a: [p for p in items if p.action == a] for a in ACTIONS}
        ordered = [p for a in ACTIONS for p in by[a]]
        lines = tuple(p.line for p in ordered)
        return Pins(
            assign={p.applicant_id: p.post_id for p in by["assign"]},
            forbid=[(p.applicant_id, p.post_id) for p in by["forbid"]],
            close_posts=[p.post_id for p in by["close"]],
            exclude=[p.applicant_id for p in by["exclude"]],
            lines=lines if any(x is not None for x in lines) else (),
        )

    def to_frame(self) -> pd.DataFrame:
        """The pins as ``pins.csv`` writes them: action, applicant_id, post_id."""
        rows = [(p.action, p.applicant_id, p.post_id) for p in self.items]
        return pd.DataFrame(rows, columns=list(PIN_COLUMNS), dtype=str)

    @staticmethod
    def from_frame(frame: pd.DataFrame, file: str = PINS_FILE) -> Pins:
        """The pins of a ``pins.csv`` read as text (action, applicant_id, post_id).

        Raises
        ------
        PinError
            Naming the file, line and column of every bad row (the header is line 1).
        """
        report = Report()
        missing = [c for c in PIN_COLUMNS if c not in frame.columns]
        for column in missing:
            report.error(
                file, 1, column, "missing-column", N_("column {column} is missing"), column=column
            )
        if missing:
            raise PinError(report)
        items: list[Pin] = []
        seen: dict[tuple[str, ...], int] = {}
        for i, row in zip(frame.index, frame.itertuples(index=False), strict=True):
            line = int(i) + 2  # the frame's index is the row of the file (header: line 1)
            action = str(row.action).strip().lower()
            aid, pid = str(row.applicant_id).strip(), str(row.post_id).strip()
            pin = _row_pin(action, aid, pid, line, file, report)
            if pin is None:
                continue
            key = (pin.action, pin.applicant_id, pin.post_id)
            if key in seen:
                report.error(
                    file,
                    line,
                    "action",
                    "duplicate",
                    N_("the same pin as on line {other}"),
                    other=seen[key],
                )
                continue
            if pin.action == "assign" and (pin.action, pin.applicant_id) in seen:
                report.error(
                    file,
                    line,
                    "applicant_id",
                    "duplicate",
                    N_("applicant {id} is assigned on line {other} already"),
                    id=pin.applicant_id,
                    other=seen[(pin.action, pin.applicant_id)],
                )
                continue
            seen[key] = line
            if pin.action == "assign":
                seen[(pin.action, pin.applicant_id)] = line
            items.append(pin)
        if not report.ok:
            raise PinError(report)
        return Pins.of(items)


def _row_pin(action: str, aid: str, pid: str, line: int, file: str, report: Report) -> Pin | None:
    """The pin of one row (its action, applicant and post as written), or None after an
    error: an unknown action, or an applicant or post missing where the action needs it."""
    if action not in ACTIONS:
        report.error(
            file,
            line,
            "action",
            "bad-value",
            N_("{value!r} is no pin action; expected one of {expected}"),
            value=action,
            expected=", ".join(ACTIONS),
        )
        return None
    if action != "close" and not aid:
        report.error(
            file,
            line,
            "applicant_id",
            "missing-value",
            N_("a pin {action} needs an applicant"),
            action=action,
        )
        return None
    if action != "exclude" and not pid:
        report.error(
            file,
            line,
            "post_id",
            "missing-value",
            N_("a pin {action} needs a post"),
            action=action,
        )
        return None
    return Pin(action, "" if action == "close" else aid, "" if action == "exclude" else pid, line)


class PinError(ScenarioError):
    """Pins refused before solving: each issue names the pin (file ``pins``, its line) and
    the rule it breaks, or the small set of pins that cannot hold together."""

    def __init__(self, report: Report, message: str | Text | None = None) -> None:
        super().__init__(report, message or Text(N_("the pins are refused")))
