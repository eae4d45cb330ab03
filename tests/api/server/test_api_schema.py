"""schemathesis against ``/openapi.json``: no generated request gets a server error (5xx),
with a national key, with a viewer key and without a key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from api.core.settings import Settings
from api.server.app import create_app
from tests.support.api import Service, running_service, zip_folder, zip_part
from tests.support.scenario_files import write_tiny


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("schema")
    with running_service(
        Settings(data_dir=tmp / "data", poll_seconds=0.1, job_time_limit=10)
    ) as service:
        h = service.headers("national")
        up = service.client.post(
            "/api/v1/scenarios", files=zip_part(zip_folder(write_tiny(tmp / "tiny"))), headers=h
        )
        assert up.status_code == 201
        yield service


OPERATIONS = [
    (method.upper(), path)
    for path, item in create_app(Settings(data_dir=Path("unused"))).openapi()["paths"].items()
    for method in item
]


@pytest.fixture(scope="module")
def api_schema(svc: Service) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", svc.client.app)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_error(method: str, path: str, api_schema: Any, svc: Service) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=5,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        for role in ("national", "viewer", None):
            response = case.call(headers=svc.headers(role))
            assert response.status_code < 500, (role, case.path, response.text[:500])

    run()
