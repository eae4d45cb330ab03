"""The errors a service raises: what went wrong in the office's terms, not in HTTP's.

Each error carries its message as a catalogue template with fields
(:class:`~planner.i18n.Text`), rendered in the language of the moment, and optional extra
fields (a validation :class:`~planner.issues.Report` among them). The HTTP layer maps each
class to a status in one place (:data:`api.server.problems.STATUS`); the command line prints
the message.

>>> from planner.i18n import N_
>>> str(NotFound(N_("no plan {id!r}"), id="p1"))
"no plan 'p1'"
"""

from __future__ import annotations

from typing import Any

from planner.i18n import Text
from planner.issues import Report


class ServiceError(Exception):
    """A request the service cannot carry out, with the message that says why.

    Parameters
    ----------
    template : str or Text
        The message, a template marked with ``N_`` and filled with ``fields`` (or a text
        made already, e.g. a validation issue's).
    extra : dict, optional
        Further fields of the answer (a :class:`~planner.issues.Report` is rendered).
    audit : str, optional
        What the audit trail's event of the refused request says (its ``detail``).
    retry_after : int, optional
        Seconds after which the same request may succeed (a busy service, a throttle).
    """

    def __init__(
        self,
        template: str | Text,
        /,
        *,
        extra: dict[str, Any] | None = None,
        audit: str | None = None,
        retry_after: int | None = None,
        **fields: Any,
    ) -> None:
        self.text = template if isinstance(template, Text) else Text(template, fields)
        self.extra = extra or {}
        self.audit = audit
        self.retry_after = retry_after
        super().__init__(template)

    @property
    def detail(self) -> str:
        """The message in the language of the moment."""
        return self.text.render()

    @property
    def report(self) -> Report | None:
        """The validation report the error carries, if any."""
        found = self.extra.get("validation")
        return found if isinstance(found, Report) else None

    def __str__(self) -> str:
        return self.detail


class NotFound(ServiceError):
    """No such thing, or not one the caller may see (a scope never tells which)."""


class Forbidden(ServiceError):
    """The caller is known but may not do this."""


class Unauthenticated(ServiceError):
    """The caller has not said who they are, or said it wrongly."""


class Invalid(ServiceError):
    """The request or its files break a rule; the message (and report) name which."""


class BadRequest(ServiceError):
    """The request itself is malformed (an unsafe zip, a file name that is not a plain name)."""


class Unreadable(ServiceError):
    """A file is not of a kind the service reads."""


class TooLarge(ServiceError):
    """A file or request is over a limit of the service."""


class Conflict(ServiceError):
    """The request contradicts the state of the service (e.g. a plan is still running)."""


class Gone(ServiceError):
    """The thing existed but is no longer served (an expired map link)."""


class Busy(ServiceError):
    """The service or this caller is at a limit for now; try again after ``retry_after``."""


class StorageFull(ServiceError):
    """The service's storage quota is used up."""


class Unavailable(ServiceError):
    """A part the service needs is not installed or not running."""


class Failed(ServiceError):
    """The service failed at something it should have done; the message says what."""
