"""The one error type of the service: a status, a message naming the problem, extra fields.

The message is a template of the catalogue with its fields (:class:`~planner.i18n.Text`),
rendered when the answer is written, in the language of the request (its ``Accept-Language``,
a page's language switch, else the server's default); a validation report among the extra
fields is rendered the same way.
"""

from __future__ import annotations

from typing import Any

from api.core import errors
from planner.i18n import Text
from planner.issues import Report

#: The HTTP status of each domain error: the one place where the service's errors meet HTTP.
STATUS: dict[type[errors.ServiceError], int] = {
    errors.BadRequest: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Gone: 410,
    errors.TooLarge: 413,
    errors.Unreadable: 415,
    errors.Invalid: 422,
    errors.Busy: 429,
    errors.Failed: 500,
    errors.Unavailable: 503,
    errors.StorageFull: 507,
}


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

    @classmethod
    def of(cls, error: errors.ServiceError) -> ApiProblem:
        """The answer to a domain error: its status from :data:`STATUS`, its message and
        fields, a ``Retry-After`` header where it says when to try again."""
        status = next(code for kind, code in STATUS.items() if isinstance(error, kind))
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
        return cls(status, error.text, extra=error.extra, headers=headers, audit=error.audit)

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
