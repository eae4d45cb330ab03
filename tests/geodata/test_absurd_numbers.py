"""Issue 22 item 5: absurd numbers are validation issues naming file, row, column and the
largest value allowed (never an int64 overflow), and a job that fails for an unexpected
reason shows the office a short message, never a traceback or a server path (the server's
log keeps the traceback for the operator)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import planner
from api.core.settings import Settings
from api.services.storage import plan_dir
from planner.columns import Kind
from planner.schema import TABLES
from tests.support.api import Browser, running_service, zip_folder, zip_part
from tests.support.scenario_files import write_tiny
from tests.support.zoo import _set_cell

ABSURD = ("1e308", "99999999999999999999999", "9223372036854775807")


@pytest.mark.parametrize("value", ABSURD)
@pytest.mark.parametrize(
    ("file", "column"),
    [
        ("posts.csv", "seats"),
        ("quotas.csv", "general_quota"),
        ("targets.csv", "target"),
        ("stations.csv", "vehicles"),
        ("stops.csv", "demand"),
        ("stops.csv", "setup_minutes"),
    ],
)
def test_an_absurd_number_is_an_issue_naming_the_cell_and_the_maximum(
    tmp_path: Path, file: str, column: str, value: str
) -> None:
    folder = write_tiny(tmp_path / "tiny")
    _set_cell(folder, file, 2, column, value)
    scenario = planner.read_scenario(folder)
    found = [i for i in scenario.report.errors if (i.file, i.line, i.column) == (file, 2, column)]
    assert len(found) == 1, scenario.report.errors
    schema = next(s for s in TABLES.values() if s.key == file.removesuffix(".csv"))
    maximum = schema.column(column).maximum
    assert maximum is not None and maximum < 2**53  # exact as a float, far from int64's end
    for lang in ("en", "zh-CN"):
        text = found[0].text.render(lang)
        assert value in text
        assert f"{int(maximum):,}" in text, text
    chinese = found[0].text.render("zh-CN")
    assert "contract" not in chinese and "number" not in chinese, chinese  # all translated


def test_every_number_column_has_a_maximum() -> None:
    numbers = [
        (s.key, c.name)
        for s in TABLES.values()
        for c in s.columns
        if c.kind in (Kind.COUNT, Kind.NUMBER) and c.maximum is None
    ]
    assert numbers == []


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("absurd")
    settings = Settings(data_dir=tmp / "data", poll_seconds=0.1, job_time_limit=30)
    with running_service(settings) as svc:
        yield {"svc": svc, "tmp": tmp, "settings": settings}


def test_upload_with_absurd_seats_answers_422_naming_the_cell(service: dict[str, Any]) -> None:
    svc, tmp = service["svc"], service["tmp"]
    folder = write_tiny(tmp / "seats")
    _set_cell(folder, "posts.csv", 3, "seats", "99999999999999999999999")
    for lang, word in (("en", "10,000"), ("zh-CN", "10,000")):
        r = svc.client.post(
            "/api/v1/scenarios",
            files=zip_part(zip_folder(folder)),
            headers={**svc.headers("national"), "Accept-Language": lang},
        )
        assert r.status_code == 422, r.text
        issues = [
            i
            for i in r.json()["validation"]["issues"]
            if (i["file"], i["line"], i["column"]) == ("posts.csv", 3, "seats")
        ]
        assert len(issues) == 1 and word in issues[0]["message"], issues
        assert "99999999999999999999999" in issues[0]["message"]


PATHISH = re.compile(r"(?<![\w.])/(?:[^\s/'\"]+/)+")


def test_a_failed_job_shows_no_traceback_and_no_server_path(
    service: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    """A re-plan whose earlier plan's assignments.csv was damaged on the server fails inside
    the worker (a KeyError deep in the reader): the office sees a short message, the server's
    log the traceback."""
    svc, tmp, settings = service["svc"], service["tmp"], service["settings"]
    ids = svc.upload_and_plan(write_tiny(tmp / "tiny"), "national")
    (plan_dir(settings, ids["plan_id"]) / "assignments.csv").write_text("x,y\n1,2\n")
    h = {**svc.headers("national"), "Accept-Language": "zh-CN"}
    r = svc.client.post(
        f"/api/v1/scenarios/{ids['scenario_id']}/plans",
        json={"previous_plan_id": ids["plan_id"]},
        headers=h,
    )
    assert r.status_code == 202, r.text
    job = svc.wait(r.json()["job_id"])
    assert job["state"] == "failed"
    shown = [job["error"], *job["log"]]
    data = str(settings.data_dir.resolve())
    for text in shown:
        assert "Traceback" not in text and 'File "' not in text, text
        assert data not in text and not PATHISH.search(text), text
        assert "KeyError" not in text, text
    assert job["error"] and len(job["error"]) < 300
    assert re.search(r"[\u4e00-\u9fff]", job["error"])  # in the language of the person
    assert job["id"] in job["error"]  # the operator's reference
    page = Browser.signed_in_as(svc, "national", "zh-CN").client.get(f"/office/jobs/{job['id']}")
    assert page.status_code == 200
    assert "Traceback" not in page.text and data not in page.text
    assert job["error"].split("；")[0] in page.text or job["error"][:20] in page.text
    server_log = capfd.readouterr().err
    assert "Traceback" in server_log and "KeyError" in server_log
