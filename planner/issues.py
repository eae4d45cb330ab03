"""Problems found in a scenario, collected like an auditor's list.

Every check appends an :class:`Issue` naming the file, the line (1-based, as a text editor
shows it; the header is line 1), the column, the severity and what was found against what was
expected. Checks never stop at the first problem. File, line, column, severity and rule are
machine-readable; the message is a :class:`~planner.i18n.Text`, read in the reader's language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from planner.i18n import N_, Text, _, _n


class Severity(StrEnum):
    """How bad a problem is: errors block a solve, warnings are reported."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in one place.

    Attributes
    ----------
    file : str
        File name inside the scenario (``"posts.csv"``) or ``"scenario.toml"``.
    line : int | None
        1-based line in the file (header = line 1); ``None`` for a whole-file problem.
    column : str | None
        Column name, or ``None``.
    severity : Severity
    rule : str
        Short code of the check, e.g. ``"unknown-county"`` or ``"D1"``.
    text : Text
        What was found and what was expected (:attr:`message` in the reader's language).
    cell : str or None
        Where a workbook shows it, as Excel names a cell (``岗位!D17``).
    """

    file: str
    line: int | None
    column: str | None
    severity: Severity
    rule: str
    text: Text
    cell: str | None = None

    @property
    def message(self) -> str:
        """What was found and what was expected, in the language of the moment."""
        return self.text.render()

    def where(self) -> str:
        """``岗位!D17`` for a workbook's cell, else ``file, line N, column C`` (the parts that
        are known), for messages."""
        if self.cell:
            return self.cell
        where = self.file
        if self.line is not None:
            where = _("{place}, {part}", place=where, part=_("line {line}", line=self.line))
        if self.column:
            where = _("{place}, {part}", place=where, part=_("column {column}", column=self.column))
        return where

    def to_dict(self) -> dict[str, Any]:
        """The issue for machines: file, line, column, severity, rule, message (rendered)."""
        return self._fields("message", self.message)

    def to_data(self) -> dict[str, Any]:
        """The issue for storage: as :meth:`to_dict`, with the message kept as its template
        and fields (``text``), so that it is read later in the reader's language."""
        return self._fields("text", self.text.to_data())

    def _fields(self, name: str, message: Any) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity.value,
            "rule": self.rule,
            name: message,
            **({"cell": self.cell} if self.cell else {}),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Issue:
        """The issue :meth:`to_data` stored."""
        return cls(
            data["file"],
            data["line"],
            data["column"],
            Severity(data["severity"]),
            data["rule"],
            Text.from_data(data["text"]),
            data.get("cell"),
        )


MAX_PER_RULE = 300
"""Issues kept per file, rule and severity; the rest are counted in one summary issue."""


@dataclass(slots=True)
class Report:
    """The growing list of issues of one scenario.

    At most :data:`MAX_PER_RULE` issues are kept per file, rule and severity; past that, one
    summary issue of the same file and rule counts the rest ("and 1,048,500 more of the
    same"), so a report stays readable and small whatever a file holds.
    """

    issues: list[Issue] = field(default_factory=list)
    _seen: dict[tuple[str, str, Severity], int] = field(
        default_factory=dict, repr=False, compare=False
    )
    _summary: dict[tuple[str, str, Severity], int] = field(
        default_factory=dict, repr=False, compare=False
    )

    def _add(self, issue: Issue) -> None:
        key = (issue.file, issue.rule, issue.severity)
        seen = self._seen.get(key, 0) + 1
        self._seen[key] = seen
        if seen <= MAX_PER_RULE:
            self.issues.append(issue)
            return
        more = Text(
            N_("and {n:,} more of the same ({rule}) in {file}"),
            {"n": seen - MAX_PER_RULE, "rule": issue.rule, "file": issue.file},
        )
        where = self._summary.get(key)
        if where is None:  # at the line of the first one left out
            self._summary[key] = len(self.issues)
            self.issues.append(
                Issue(issue.file, issue.line, None, issue.severity, issue.rule, more)
            )
        else:
            self.issues[where] = replace(self.issues[where], text=more)

    def error(
        self,
        file: str,
        line: int | None,
        column: str | None,
        rule: str,
        message: str,
        /,
        **fields: Any,
    ) -> None:
        """Record an error: ``message`` is a template marked with ``N_`` and filled with
        ``fields`` when read (:class:`~planner.i18n.Text`); the arguments before it are
        positional, so that a field may be called ``line`` or ``file``."""
        self._add(Issue(file, line, column, Severity.ERROR, rule, Text(message, fields)))

    def warning(
        self,
        file: str,
        line: int | None,
        column: str | None,
        rule: str,
        message: str,
        /,
        **fields: Any,
    ) -> None:
        """Record a warning (see :meth:`error`)."""
        self._add(Issue(file, line, column, Severity.WARNING, rule, Text(message, fields)))

    @property
    def errors(self) -> list[Issue]:
        """Issues of severity error."""
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        """Issues of severity warning."""
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def sorted(self) -> list[Issue]:
        """Issues ordered by severity, file and line, for display."""
        return sorted(
            self.issues,
            key=lambda i: (i.severity is not Severity.ERROR, i.file, i.line or 0, i.column or ""),
        )

    def raise_for_errors(self) -> Report:
        """Raise :class:`ScenarioError` carrying this report when it has an error; else return
        the report (its warnings are for reading)."""
        if not self.ok:
            raise ScenarioError(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The report for machines, ``{"ok", "errors", "warnings", "issues"}``, its messages
        in the language of the moment."""
        return {
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "issues": [i.to_dict() for i in self.sorted()],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_data(self) -> dict[str, Any]:
        """The report for storage (JSON-ready): every issue with its message as a template
        (:meth:`Issue.to_data`), to be read later in any language (:meth:`from_data`)."""
        return {"issues": [i.to_data() for i in self.issues]}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Report:
        """The report :meth:`to_data` stored."""
        return cls([Issue.from_data(i) for i in data.get("issues", [])])


class ScenarioError(Exception):
    """A scenario cannot be used (validated with errors, or lacking the tables a stage needs);
    carries the full report. Its text is ``message`` and the first errors, one per line, in the
    language of the moment when it is read."""

    SHOWN = 5
    """Errors listed in the text of the exception (all of them are in ``report``)."""

    def __init__(self, report: Report, message: str | Text | None = None) -> None:
        self.report = report
        self._message = message
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """What is wrong, in the language of the moment (default: how many errors)."""
        if self._message is not None:
            return str(self._message)
        n = len(self.report.errors)
        return _n("scenario has {n} error", "scenario has {n} errors", n)

    def __str__(self) -> str:
        errors = self.report.errors
        lines = [
            self.message,
            *(
                "  " + _("{where}: {message}", where=i.where(), message=i.message)
                for i in errors[: self.SHOWN]
            ),
        ]
        if len(errors) > self.SHOWN:
            lines.append("  " + _("… and {n} more (see .report)", n=len(errors) - self.SHOWN))
        return "\n".join(lines)
