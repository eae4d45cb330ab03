"""Messages made of several: the first errors of a report, a list of problems, each rendered
in the reader's language when the answer is written."""

from __future__ import annotations

from typing import Any

from planner.i18n import N_, Text
from planner.issues import Report


def first_errors(report: Report, n: int = 3) -> Text:
    """The first ``n`` errors as one text (``where: message; ...; and N more``)."""
    shown = [
        Text(N_("{where}: {message}"), {"where": i.cell or i.file, "message": i.text})
        for i in report.errors
    ]
    return joined(shown, n)


def joined(texts: list[Text], n: int) -> Text:
    """The first ``n`` texts as one (``a; b; ...; and N more``), each rendered in the
    reader's language."""
    fields: dict[str, Any] = {f"e{k}": t for k, t in enumerate(texts[:n])}
    template = "; ".join(f"{{e{k}}}" for k in range(len(fields)))
    more = len(texts) - n
    if more > 0:
        fields["more"] = Text(N_("and {n} more"), {"n": more})
        template += "; {more}"
    return Text(template, fields)
