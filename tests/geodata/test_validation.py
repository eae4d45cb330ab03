"""Every zoo case is reported with its file, line and column; no partial scenario comes back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geodata.scenario import load_scenario
from tests.support.scenario_files import tiny_counties
from tests.support.zoo import CASES, Case, make_case


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


def _post_line(folder: Path, post: str, column: str, value: str) -> int:
    """Set ``column`` of ``post`` in posts.csv; return the file line of that row."""
    path = folder / "posts.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    for n, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] == post:
            cells[header.index(column)] = value
            lines[n] = ",".join(cells)
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return n + 1
    raise AssertionError(post)


def test_an_unknown_county_code_suggests_the_county_of_its_township(tiny_dir: Path) -> None:
    """A mistyped county code beside a township code of a real county: 'did you mean' that
    county, by code and name, in either language."""
    from planner import i18n

    a, _b = tiny_counties()
    wrong = a.code[:4] + "99"
    line = _post_line(tiny_dir, "PA1", "county_code", wrong)
    result = load_scenario(tiny_dir)
    found = [
        i
        for i in result.report.errors
        if (i.file, i.line, i.rule) == ("posts.csv", line, "unknown-county")
    ]
    assert len(found) == 1, result.report.errors
    assert found[0].column == "county_code"
    en = found[0].text.render("en")
    zh = found[0].text.render("zh-CN")
    assert f"did you mean {a.code} ({a.name})?" in en and f"{a.code}001" in en, en
    assert f"是否应为 {a.code}（{a.name}）" in zh, zh
    # a code without a township beside it keeps the plain message
    (tiny_dir / "quotas.csv").write_text(
        (tiny_dir / "quotas.csv").read_text(encoding="utf-8").replace(a.code, wrong, 1),
        encoding="utf-8",
    )
    quota = [i for i in load_scenario(tiny_dir).report.errors if i.file == "quotas.csv"]
    assert quota and all("did you mean" not in i.text.render("en") for i in quota)
    assert i18n.language()  # untouched


def test_a_county_name_where_its_code_belongs_says_the_code(tiny_dir: Path) -> None:
    a, _b = tiny_counties()
    line = _post_line(tiny_dir, "PA2", "county_code", a.name)
    errors = load_scenario(tiny_dir).report.errors
    cell = [i for i in errors if (i.file, i.line, i.column) == ("posts.csv", line, "county_code")]
    assert len(cell) == 1 and cell[0].rule == "bad-value", errors
    assert f"write its code {a.code}" in cell[0].text.render("en")
    assert f"请填写它的代码 {a.code}" in cell[0].text.render("zh-CN")


def test_reasons_name_the_provinces_they_mention() -> None:
    """A reason names a province by its name and code (江苏省（320000）); the code stays
    where the machines read it (the reason's code and fields)."""
    from planner.allocation.account import Reason

    why = Reason("bachelor-share", "320000")
    assert "来自 江苏省（320000） 的" in why.text.render("zh-CN")
    assert "江苏省 (320000)" in why.text.render("en")
    both = Reason("dispatch-target", "520000, 530000").text.render("zh-CN")
    assert "贵州省（520000）、云南省（530000）" in both, both
    assert why.code == "bachelor-share" and why.province == "320000"
