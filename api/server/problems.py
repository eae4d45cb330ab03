"""The one error type of the service: a status, a message naming the problem, extra fields.

The message is a template of the catalogue with its fields (:class:`~planner.i18n.Text`),
rendered when the answer is written, in the language of the request (its ``Accept-Language``,
a page's language switch, else the server's default); a validation report among the extra
fields is rendered the same way.
"""

from __future__ import annotations

from typing import Any

from planner.i18n import Text
from planner.issues import Report


class ApiProblem(Exception):
    """An answer other than success, e.g. ``ApiProblem(404, N_("no plan {plan!r}"), plan=x)``.

    Parameters
    ----------
    status : int
        The HTTP status.
    template : str or Text
        The message, a template marked with ``N_`` and filled with ``fields`` (or a text
        made already, e.g. a validation issue's).
    extra : dict, optional
        Further fields of the answer (a :class:`~planner.issues.Report` is rendered).
    headers : dict, optional
        Headers of the answer (``Retry-After``, ``WWW-Authenticate``).
    audit : str, optional
        What the audit trail's event of a refused request says (its ``detail``).
    """

    def __init__(
        self,
        status: int,
        template: str | Text,
        /,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        audit: str | None = None,
        **fields: Any,
    ) -> None:
        self.status = status
        self.audit = audit
        self.text = template if isinstance(template, Text) else Text(template, fields)
        self.extra = extra or {}
        self.headers = headers
        super().__init__(template)

    @property
    def detail(self) -> str:
        """The message in the language of the moment."""
        return self.text.render()

    @property
    def report(self) -> Report | None:
        """The validation report the answer carries, if any."""
        found = self.extra.get("validation")
        return found if isinstance(found, Report) else None

    def body(self) -> dict[str, Any]:
        """The JSON answer: ``detail`` and the extra fields, in the language of the moment."""
        extra = {k: v.to_dict() if isinstance(v, Report) else v for k, v in self.extra.items()}
        return {"detail": self.detail, **extra}

    def __str__(self) -> str:
        return self.detail
