"""Issue 22 item 4: CSVs served for people to download are neutralised the OWASP way (a text
cell starting with =, +, -, @, a tab or a carriage return gets a leading ``'``); the plan
folder's own CSVs keep every value exactly, so scripts and ``--previous`` read back what the
office wrote.

Checked with the csv module, independently of pandas and of the code under test."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import planner
from api.core.settings import Settings
from api.services import results
from api.services.storage import plan_dir
from tests.support.api import running_service
from tests.support.hostile import FORMULAS, HOSTILE, TRIGGERS, write_hostile

TABLES = ("assignments", "unassigned", "seats")


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def _file_rows(path: Path) -> list[dict[str, str]]:
    return _rows(path.read_text(encoding="utf-8-sig"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("hostile-csv")
    settings = Settings(data_dir=tmp / "data", poll_seconds=0.1, job_time_limit=30)
    with running_service(settings) as svc:
        ids = svc.upload_and_plan(write_hostile(tmp / "scenario"), "national")
        yield {"svc": svc, "folder": plan_dir(settings, ids["plan_id"]), **ids}


@pytest.mark.parametrize("table", TABLES)
def test_downloaded_csv_starts_no_cell_with_a_formula(served: dict[str, Any], table: str) -> None:
    svc = served["svc"]
    r = svc.client.get(
        f"/api/v1/plans/{served['plan_id']}/{table}",
        params={"format": "csv", "limit": 100_000},
        headers=svc.headers("national"),
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    got = _rows(r.text)
    want = _file_rows(served["folder"] / f"{table}.csv")  # the plan folder's exact values
    assert len(got) == len(want) and len(got) > 0
    hostile_cells = 0
    for line, exact in zip(got, want, strict=True):
        assert list(line) == list(exact)
        for column, value in line.items():
            assert not value.startswith(TRIGGERS), (table, column, value)
            original = exact[column]
            if original.startswith(TRIGGERS):
                hostile_cells += 1
                assert value == "'" + original
            else:
                assert value == original
    if table != "seats":  # seats has no applicant column (township names only)
        assert hostile_cells > 0
    else:
        assert any(v in HOSTILE for row in want for v in row.values())


def test_json_pages_keep_the_values(served: dict[str, Any]) -> None:
    """Machines read JSON: the values there are exactly those of the plan folder."""
    svc = served["svc"]
    r = svc.client.get(
        f"/api/v1/plans/{served['plan_id']}/unassigned", headers=svc.headers("national")
    )
    want = _file_rows(served["folder"] / "unassigned.csv")
    assert [i["applicant_id"] for i in r.json()["items"]] == [w["applicant_id"] for w in want]


def test_neutralised_cells_follow_owasp() -> None:
    for value in (*HOSTILE, "\t=1+1", "\r=1+1", "-5"):
        out = results.neutralised(value)
        if value.startswith(TRIGGERS):
            assert out == "'" + value
        else:
            assert out == value
    assert results.neutralised(-5) == -5  # a number is a number
    frame = pd.DataFrame({"name": ["a;=1+1", "=1+1"], "n": [1, 2]})
    lines = results.csv_for_people(frame).splitlines()
    assert lines == ['"name","n"', '"a;=1+1",1', '"\'=1+1",2']  # text quoted, numbers bare


def test_sweep_csv_download_is_neutralised(tmp_path: Path) -> None:
    rows = [{"changes": "", "objective": "1.5"}, {"changes": "=1+1", "objective": "-2"}]
    with (tmp_path / "sweep.csv").open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, ["changes", "objective"])
        w.writeheader()
        w.writerows(rows)
    text = results.sweep_csv(tmp_path)
    assert text.startswith("\ufeff")  # a spreadsheet reads the Chinese text as UTF-8
    got = _rows(text)
    assert [r["changes"] for r in got] == ["", "'=1+1"]
    assert [float(r["objective"]) for r in got] == [1.5, -2.0]


def test_plan_folder_reads_back_exactly_with_previous(tmp_path: Path) -> None:
    """The plan folder's CSVs hold the office's values exactly: ``--previous`` (the library's
    read_previous and a re-plan from it) sees the hostile applicant ids unchanged."""
    scenario = planner.read_scenario(write_hostile(tmp_path / "scenario"))
    params = planner.AllocationParams(time_limit=30)
    first = planner.allocate(scenario, params)
    first.write(tmp_path / "first")
    rows = _file_rows(tmp_path / "first" / "assignments.csv")
    unplaced = _file_rows(tmp_path / "first" / "unassigned.csv")
    assert {r["applicant_id"] for r in rows + unplaced} == set(FORMULAS)
    previous = planner.read_previous(tmp_path / "first")
    assert list(previous.applicant_id) == [r["applicant_id"] for r in rows]
    assert list(previous.post_id) == [r["post_id"] for r in rows]
    again = planner.allocate(scenario, params, previous=previous)
    again.write(tmp_path / "again")
    moves = _file_rows(tmp_path / "again" / "moves.csv")
    assert {m["applicant_id"] for m in moves} == {r["applicant_id"] for r in rows}
    assert all(m["change"] == "kept" for m in moves)
