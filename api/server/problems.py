"""The one error type of the service: a status, a message naming the problem, extra fields."""

from __future__ import annotations

from typing import Any


class ApiProblem(Exception):
    """An answer other than success, e.g. ``ApiProblem(404, "no plan 'x'")``."""

    def __init__(
        self,
        status: int,
        detail: str,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers
        super().__init__(detail)
