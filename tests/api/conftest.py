"""The service's shared fixtures: one per test module, since tests add keys, events and files.

- ``fresh_service``: a running service with nothing uploaded (:class:`TinyService`);
- ``guizhou_plan``: a running service where the Guizhou office uploaded the tiny scenario and
  planned it (:class:`PlannedTiny`).

A module whose service needs other settings builds its own with
:func:`tests.support.api.planned_tiny` (or ``tiny_service``) and names it after what differs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.api import PlannedTiny, TinyService, planned_tiny, tiny_service


@pytest.fixture(scope="module")
def fresh_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyService]:
    """A running service with nothing uploaded, and the tiny scenario's folder."""
    with tiny_service(tmp_path_factory.mktemp("fresh")) as room:
        yield room


@pytest.fixture(scope="module")
def guizhou_plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlannedTiny]:
    """The tiny scenario uploaded and planned by the Guizhou office in a running service."""
    with planned_tiny(tmp_path_factory.mktemp("guizhou")) as plan:
        yield plan
