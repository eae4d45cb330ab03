"""Each domain error of the service's core reaches an HTTP client as its status, once mapped."""

from __future__ import annotations

import inspect

import pytest

from api.core import errors
from api.server.problems import STATUS, ApiProblem
from planner.i18n import N_

KINDS = [
    c
    for c in vars(errors).values()
    if inspect.isclass(c) and issubclass(c, errors.ServiceError) and c is not errors.ServiceError
]


def test_every_domain_error_has_one_status() -> None:
    assert sorted(k.__name__ for k in KINDS) == sorted(k.__name__ for k in STATUS)
    assert len(set(STATUS.values())) == len(STATUS)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_a_domain_error_keeps_its_message_fields_and_retry(kind: type) -> None:
    error = kind(N_("no plan {id!r}"), id="p7", audit="why", retry_after=30)
    problem = ApiProblem.of(error)
    assert problem.status == STATUS[kind]
    assert problem.body()["detail"] == "no plan 'p7'"
    assert problem.audit == "why"
    assert problem.headers == {"Retry-After": "30"}
