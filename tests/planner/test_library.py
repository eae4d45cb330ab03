"""The planner as a library: docs/library.md runs as written, DataFrames give what files give,
and the package seams hold (``import planner`` stays light, modules import on their own).

Results are checked with the independent checkers (tests/support/alloc_checker.py,
tests/support/route_checker.py), not with the library's own ``check()``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import planner
from geodata.scenario import load_scenario
from tests.support.alloc_checker import check_plan
from tests.support.paths import REPO
from tests.support.route_checker import check_routes
from tests.support.scenario_files import write_tiny
from tests.support.workbooks import TABLE_FILES, same_table
from tests.support.zoo import CASES, Case

ROOT = REPO


def _independently_checked(plan: planner.Plan) -> None:
    assignment = dict(
        zip(plan.assignments["applicant_id"], plan.assignments["post_id"], strict=True)
    )
    result = check_plan(plan.scenario.data, assignment)
    assert result.violations == []
    assert result.objective == pytest.approx(plan.objective)


@pytest.mark.slow
def test_library_doc_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every python block of docs/library.md, in order, as one session (huaihua-screening,
    then a scenario made of DataFrames)."""
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    session: dict[str, Any] = {}
    exec(compile(blocks[0], "docs/library.md, block 1", "exec"), session)
    huaihua_plan, huaihua_routes = session["plan"], session["routes"]
    for i, block in enumerate(blocks[1:], start=2):
        exec(compile(block, f"docs/library.md, block {i}", "exec"), session)
    frames_plan, frames_routes = session["plan"], session["routes"]
    assert frames_plan.scenario.source == "" and frames_plan.scenario.name == "guiyang-example"
    for plan, routes, folder in (
        (huaihua_plan, huaihua_routes, tmp_path / "out"),
        (frames_plan, frames_routes, tmp_path / "guiyang"),
    ):
        _independently_checked(plan)
        assert check_routes(routes.problem, routes.result) == []
        assert len(routes.routes) > 0
        # the folder holds what the objects hold
        for name, frame in {**plan.tables, **routes.tables}.items():
            written = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
            assert list(written.columns) == list(frame.columns), name
            assert len(written) == len(frame), name
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert summary["objective"] == plan.objective and summary["routing"]["routes"] == len(
            routes.routes
        )


def _frames(folder: Path, as_text: bool) -> dict[str, pd.DataFrame]:
    """The tiny scenario's CSVs as DataFrames: all text, or as pandas guesses the types
    (codes become integers, empty cells NaN)."""
    out = {}
    for name in TABLE_FILES:
        path = folder / f"{name}.csv"
        out[name] = (
            pd.read_csv(path, dtype=str, keep_default_na=False) if as_text else pd.read_csv(path)
        )
    return out


@pytest.mark.parametrize("as_text", [True, False], ids=["text", "typed"])
def test_frames_give_the_scenario_the_files_give(tmp_path: Path, as_text: bool) -> None:
    folder = write_tiny(tmp_path / "tiny")
    files = load_scenario(folder)
    frames = planner.Scenario.from_frames(
        **_frames(folder, as_text), name="tiny", year=2006, rules={"undergraduate_min_share": 0.85}
    )
    assert frames.report.errors == [], frames.report.errors
    for name in TABLE_FILES:
        same_table(getattr(files.data, name), getattr(frames.data, name), name)
    a = planner.allocate(files, planner.AllocationParams(time_limit=30))
    b = planner.allocate(frames, planner.AllocationParams(time_limit=30))
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    assert a.objective == b.objective


FRAME_CASES = [
    c
    for c in CASES
    if all(e.file.removesuffix(".csv") in TABLE_FILES and e.file.endswith(".csv") for e in c.expect)
    and c.name not in ("gbk-text", "empty-file", "fields-count")  # what only a file can be
]


@pytest.mark.parametrize("case", FRAME_CASES, ids=lambda c: c.name)
def test_frames_report_what_the_files_report(case: Case, tmp_path: Path) -> None:
    """Each broken table of the zoo, handed over as DataFrames, gives the same issues (rule,
    table, row, column, severity) as the files."""
    folder = case.breaks(write_tiny(tmp_path / "tiny"))
    files = load_scenario(folder)
    frames = planner.Scenario.from_frames(**_frames(folder, True), name="tiny", year=2006)

    def issues(report: planner.Report) -> set[tuple[Any, ...]]:
        return {
            (i.file.removesuffix(".csv"), i.line, i.column, i.rule, i.severity.value)
            for i in report.issues
            if i.file != "scenario.toml"
        }

    assert issues(frames.report) == issues(files.report)
    assert frames.valid == files.valid
    for e in case.expect:
        assert (e.file.removesuffix(".csv"), e.line, e.column, e.rule, e.severity) in issues(
            frames.report
        )


def test_a_scenario_with_errors_is_refused_with_its_report(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "tiny")
    frames = _frames(folder, True)
    frames["posts"].loc[0, "seats"] = "-2"
    sc = planner.Scenario.from_frames(**frames)
    assert not sc.valid
    with pytest.raises(planner.ScenarioError) as info:
        planner.allocate(sc)
    assert info.value.report is sc.report
    assert "posts, line 2, column seats" in str(info.value)
    with pytest.raises(planner.ScenarioError):
        sc.report.raise_for_errors()
    not_a_layer = planner.Scenario.from_frames(**_frames(folder, True), counties=frames["posts"])
    assert [i.rule for i in not_a_layer.report.errors] == ["layer-format"]


def _run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_import_planner_is_light_and_finds_its_backend() -> None:
    """``import planner`` loads neither the I/O layer nor the solvers; the backend comes from
    the entry point, and the solvers on first use."""
    out = _run(
        "import sys, planner\n"
        "print(sorted(m for m in ('geodata', 'ortools', 'geopandas', 'scipy') if m in sys.modules))\n"
        "b = planner.backend()\n"
        "print(type(b).__module__, 'geodata' in sys.modules)\n"
        "planner.allocate\n"
        "print('ortools' in sys.modules)\n"
    )
    assert out.split("\n")[:3] == ["[]", "geodata.backend True", "True"]


@pytest.mark.parametrize(
    "module",
    [
        "api.server.deps",
        "api.server.app",
        "api.server.jobs",
        "api.server.job_worker",
        "api.core.stages",
        "maps",
    ],
)
def test_module_imports_on_its_own(module: str) -> None:
    _run(f"import {module}")
