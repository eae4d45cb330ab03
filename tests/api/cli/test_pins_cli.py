"""`planner plan --pins`, `planner explain` and `planner diff` on the tiny scenario; the pinned
plan folder reads back (pins.csv, summary.json's pins and price)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import planner
from tests.support.alloc_checker import check_plan
from tests.support.scenario_files import write_tiny


def _planner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("pins")
    scenario = write_tiny(root / "tiny")
    base = root / "base"
    proc = _planner("plan", str(scenario), "--out", str(base), "--time-limit", "60")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assignments = _csv(base / "assignments.csv")
    first, second = assignments.iloc[0], assignments.iloc[1]
    pins = pd.DataFrame(
        {
            "action": ["close", "exclude"],
            "applicant_id": ["", second["applicant_id"]],
            "post_id": [first["post_id"], ""],
        }
    )
    pins.to_csv(root / "pins.csv", index=False)
    pinned = root / "pinned"
    proc = _planner(
        "plan", str(scenario), "--out", str(pinned), "--pins", str(root / "pins.csv"),
        "--baseline", str(base),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return scenario, base, pinned, pins


def test_pinned_folder_records_pins_and_price(plans: tuple[Path, Path, Path, pd.DataFrame]) -> None:
    scenario, base, pinned, pins = plans
    summary = json.loads((pinned / "summary.json").read_text(encoding="utf-8"))
    before = json.loads((base / "summary.json").read_text(encoding="utf-8"))
    assert "pins" not in before and "pins_cost" not in before
    assert not (base / "pins.csv").exists()
    assert summary["pins"] == {"assign": 0, "forbid": 0, "close": 1, "exclude": 1}
    assert summary["pins_cost"] == pytest.approx(summary["objective"] - before["objective"])
    assert summary["baseline_objective"] == before["objective"]
    assert _csv(pinned / "pins.csv").values.tolist() == pins.values.tolist()
    a = _csv(pinned / "assignments.csv")
    closed, excluded = pins["post_id"][0], pins["applicant_id"][1]
    assert closed not in set(a["post_id"]) and excluded not in set(a["applicant_id"])
    reasons = _csv(pinned / "unassigned.csv").set_index("applicant_id")["reason_code"]
    assert reasons[excluded] == "pinned-exclude"
    sc = planner.read_scenario(str(scenario))
    result = check_plan(sc.data, dict(zip(a["applicant_id"], a["post_id"], strict=True)))
    assert result.violations == [] and result.objective == pytest.approx(summary["objective"])
    again = planner.read_plan(pinned)  # reads back with its pins
    assert again.pins is not None and again.pins_cost == pytest.approx(summary["pins_cost"])


def test_explain_and_diff_commands(plans: tuple[Path, Path, Path, pd.DataFrame]) -> None:
    _, base, pinned, pins = plans
    aid = _csv(pinned / "assignments.csv")["applicant_id"][0]
    proc = _planner("explain", str(pinned), aid, "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    e = json.loads(proc.stdout)
    assert e["applicant_id"] == aid and e["alternatives"][-1]["choice"] == "unplaced"
    proc = _planner("diff", str(base), str(pinned), "--out", str(pinned.parent / "diff.csv"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    d = _csv(pinned.parent / "diff.csv").set_index("applicant_id")
    assert d.loc[pins["applicant_id"][1], "change"] == "unplaced"
    assert "unplaced 1" in proc.stdout or "unplaced" in proc.stdout
    proc = _planner("explain", str(pinned), "NOBODY")
    assert proc.returncode == 1 and "NOBODY" in proc.stderr


def test_bad_pins_file_names_file_line_column(
    plans: tuple[Path, Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    scenario = plans[0]
    bad = tmp_path / "pins.csv"
    bad.write_text("action,applicant_id,post_id\nassign,A1,\nfreeze,A2,P1\n", encoding="utf-8")
    proc = _planner("plan", str(scenario), "--out", str(tmp_path / "out"), "--pins", str(bad))
    assert proc.returncode == 1
    text = proc.stdout + proc.stderr
    assert re.search(r"pins.csv\W+2\W+post_id\W+missing-value", text), text
    assert re.search(r"pins.csv\W+3\W+action\W+bad-value", text), text
    assert not (tmp_path / "out").exists()


def test_assign_pin_on_a_replan(
    plans: tuple[Path, Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    """`planner plan --previous DIR --pins` with an assign pin (the tiny scenario leaves no
    applicant a second feasible post, so the pin holds one on his post while another is
    excluded): the pins hold, and the folder's objective is the library's re-plan under them."""
    scenario, base, _, _ = plans
    before = planner.read_plan(base)
    (aid, post), (gone, _) = before.assignments[["applicant_id", "post_id"]].values[[-1, 0]]
    pins = pd.DataFrame(
        {"action": ["assign", "exclude"], "applicant_id": [aid, gone], "post_id": [post, ""]}
    )
    pins.to_csv(tmp_path / "pins.csv", index=False)
    out = tmp_path / "replan"
    proc = _planner(
        "plan", str(scenario), "--out", str(out), "--previous", str(base),
        "--pins", str(tmp_path / "pins.csv"), "--time-limit", "60",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    a = _csv(out / "assignments.csv").set_index("applicant_id")["post_id"]
    assert a[aid] == post and gone not in a.index
    library = planner.allocate(
        planner.read_scenario(str(scenario)),
        previous=before,
        pins=planner.Pins(assign={aid: post}, exclude=[gone]),
    )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"] == pytest.approx(library.objective)
    assert summary["pins"] == {"assign": 1, "forbid": 0, "close": 0, "exclude": 1}
