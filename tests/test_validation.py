"""Every zoo case is reported with its file, line and column; no partial scenario comes back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geodata.scenario import load_scenario
from tests.scenario_files import tiny_counties
from tests.zoo import CASES, Case, make_case


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_zoo_case_is_reported_precisely(case: Case, tmp_path: Path) -> None:
    target = make_case(case, tmp_path)
    result = load_scenario(target)
    found = [(i.file, i.line, i.column, i.rule, i.severity.value) for i in result.report.issues]
    for e in case.expect:
        assert (e.file, e.line, e.column, e.rule, e.severity) in found, found
    if any(e.severity == "error" for e in case.expect):
        assert not result.valid
        assert not result.report.ok
    else:
        assert result.valid, found


def test_every_problem_is_collected_at_once(tiny_dir: Path) -> None:
    """Three unrelated problems in three files come back together."""
    for case_name in ("unknown-degree", "negative-seats", "unknown-county"):
        case = next(c for c in CASES if c.name == case_name)
        case.breaks(tiny_dir)
    result = load_scenario(tiny_dir)
    files = {i.file for i in result.report.errors}
    assert {"applicants.csv", "posts.csv", "quotas.csv"} <= files
    assert not result.valid


def test_gbk_file_is_decoded_with_its_chinese_text(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "gbk-text")
    result = load_scenario(make_case(case, tmp_path))
    assert result.valid and result.data.posts is not None
    assert "甲镇" in set(result.data.posts.township_name)


def test_repaired_polygon_keeps_the_scenario_usable(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "self-intersecting-polygon")
    result = load_scenario(make_case(case, tmp_path))
    s = result.data
    assert s is not None
    a, _ = tiny_counties()
    row = list(s.counties.code).index(a.code)
    # the layer's 0.1-degree bow-tie replaced the real polygon: its centroid is the layer's
    assert abs(s.counties.centroid_lon[row] - a.lon) < 0.06
    assert len(s.counties) >= 2875


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_cli_names_file_row_column_and_never_shows_a_traceback(case: Case, tmp_path: Path) -> None:
    target = make_case(case, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "validate", str(target), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    errors = any(e.severity == "error" for e in case.expect)
    assert proc.returncode == (1 if errors else 0)
    assert doc["ok"] is (not errors)
    e = case.expect[0]
    assert any(
        (i["file"], i["line"], i["column"], i["rule"]) == (e.file, e.line, e.column, e.rule)
        for i in doc["issues"]
    )


def test_cli_table_output_is_readable(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "negative-seats")
    target = make_case(case, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "validate", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 1
    assert "posts.csv" in proc.stdout and "seats" in proc.stdout and "-2" in proc.stdout
    assert "1 error(s)" in proc.stdout
