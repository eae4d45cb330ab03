"""`planner plan` writes the contract's outputs; an independent check reads them back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from geodata.scenario import read_scenario_data
from tests.support.alloc_checker import check_plan

pytestmark = pytest.mark.slow  # the whole module runs only in `make test`


PLACE_NAME_HEADERS = {"County", "Prefecture", "Province", "Recruiting province", "Service province"}
"""The English headers of the place-name columns plan.xlsx adds after each code column."""


def _planner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "COLUMNS": "160"},
    )


@pytest.fixture(scope="module")
def prefecture_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan") / "prefecture"
    proc = _planner("plan", "builtin:tier-prefecture", "--out", str(out), "--time-limit", "120")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    return out


def test_outputs_exist_and_agree_with_the_independent_checker(prefecture_plan: Path) -> None:
    for name in (
        "assignments.csv",
        "unassigned.csv",
        "seats.csv",
        "summary.json",
        "plan.xlsx",
        "fairness.csv",
    ):
        assert (prefecture_plan / name).is_file(), name

    def read(n: str) -> pd.DataFrame:
        return pd.read_csv(
            prefecture_plan / n, dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )

    assignments = read("assignments.csv")
    summary = json.loads((prefecture_plan / "summary.json").read_text(encoding="utf-8"))
    scenario = read_scenario_data("builtin:tier-prefecture")
    result = check_plan(
        scenario, dict(zip(assignments["applicant_id"], assignments["post_id"], strict=True))
    )
    assert result.violations == []
    assert summary["objective"] == pytest.approx(result.objective)
    for name, value in result.terms.items():
        assert summary["terms"][name] == pytest.approx(value), name
    assert summary["budget_cny"]["total"] == result.budget_total_cny
    assert summary["lower_bound"] <= summary["objective"] + 1e-6
    assert summary["gap"] <= 1e-4 and summary["optimal"] is True
    # every applicant is either placed or has a reason
    unassigned = read("unassigned.csv")
    assert scenario.applicants is not None
    assert len(assignments) + len(unassigned) == len(scenario.applicants)
    assert set(assignments["applicant_id"]).isdisjoint(unassigned["applicant_id"])
    assert (unassigned["reason"] != "").all()
    # codes stay text, seats add up
    assert assignments["county_code"].str.fullmatch(r"\d{6}").all()
    seats = read("seats.csv")
    filled = seats["filled"].astype(int)
    assert filled.sum() == len(assignments)
    assert (filled <= seats["open_seats"].astype(int)).all()
    xlsx = pd.ExcelFile(prefecture_plan / "plan.xlsx")
    provinces = [n for n in xlsx.sheet_names if n[:6].isdigit()]
    assert {"Summary", "Unassigned", "Seats", "Fairness"} <= set(xlsx.sheet_names)
    # the workbook carries the same tables, every row, codes as text (the assignments on one
    # sheet per service province)
    for sheet_name, name in (
        ("Unassigned", "unassigned"),
        ("Seats", "seats"),
        ("Fairness", "fairness"),
    ):
        sheet = pd.read_excel(xlsx, sheet_name=sheet_name, dtype=object)
        # for people each place code is followed by the place's name (a column of its own)
        names = [c for c in sheet.columns if c in PLACE_NAME_HEADERS]
        for named in names:
            code = sheet.columns[sheet.columns.get_loc(named) - 1]
            assert "code" in str(code).lower(), (named, code)
        assert len(sheet.columns) - len(names) == len(read(f"{name}.csv").columns)
        assert len(sheet) == len(read(f"{name}.csv"))
    sheets = [pd.read_excel(xlsx, sheet_name=n, dtype=object) for n in provinces]
    for name, sheet in zip(provinces, sheets, strict=True):
        assert (sheet["County code"].str[:2] == name[:2]).all()
    sheet = pd.concat(sheets).sort_values("Applicant ID", kind="stable")
    assert sheet["County code"].map(type).eq(str).all()
    assert sheet["County code"].tolist() == assignments["county_code"].tolist()
    assert sheet["Applicant ID"].astype(str).tolist() == assignments["applicant_id"].tolist()


def test_summary_records_decisions_and_times(prefecture_plan: Path) -> None:
    summary = json.loads((prefecture_plan / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"]["synthetic"] is True
    assert {"bachelor_share", "rank", "budget"} <= set(summary["decisions"])
    assert summary["build_seconds"] >= 0 and summary["solve_seconds"] >= 0
    assert {"buckets", "service", "recruit", "pairs"} <= set(summary["rules"])


def test_replan_with_previous_plan_keeps_everyone(prefecture_plan: Path, tmp_path: Path) -> None:
    """Nothing changed: the re-plan keeps every volunteer on his post (term 6 is 0)."""
    out = tmp_path / "again"
    proc = _planner(
        "plan", "builtin:tier-prefecture", "--out", str(out), "--previous", str(prefecture_plan)
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["terms"]["replan_moves"] == 0
    assert summary["counts"]["previous_moved"] == 0
    moves = pd.read_csv(out / "moves.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert set(moves["change"]) == {"kept"}


def test_replan_after_dropouts_lists_the_moves(prefecture_plan: Path, tmp_path: Path) -> None:
    """Two volunteers of the previous plan drop out: they are listed; the rest stay put."""
    prev = tmp_path / "prev"
    prev.mkdir()
    assignments = pd.read_csv(
        prefecture_plan / "assignments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    assignments.loc[:1, "applicant_id"] = ["GONE1", "GONE2"]
    assignments.to_csv(prev / "assignments.csv", index=False)
    out = tmp_path / "replan"
    proc = _planner("plan", "builtin:tier-prefecture", "--out", str(out), "--previous", str(prev))
    assert proc.returncode == 0, proc.stdout[-2000:]
    moves = pd.read_csv(out / "moves.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    counts = moves["change"].value_counts().to_dict()
    assert counts["dropout"] == 2
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["terms"]["replan_moves"] == 50 * (
        counts.get("moved", 0) + counts.get("unplaced", 0)
    )
    assert summary["moves"] == counts


def test_plan_of_a_broken_scenario_reports_and_writes_nothing(tmp_path: Path) -> None:
    from tests.support.zoo import CASES, make_case

    case = next(c for c in CASES if c.name == "negative-seats")
    target = make_case(case, tmp_path)
    out = tmp_path / "out"
    proc = _planner("plan", str(target), "--out", str(out))
    assert proc.returncode == 1
    assert "posts.csv" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    assert not out.exists()
