"""The `planner` command: demo --write gives valid scenario folders; validate reads them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest


def _planner(
    *args: str, cwd: Path | None = None, lang: str = "en"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", "PLANNER_LANG": lang},
    )


@pytest.mark.slow
def test_demo_write_gives_valid_labelled_folders(tmp_path: Path) -> None:
    proc = _planner("demo", "--write", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for name in ("western-2006", "huaihua-screening"):
        folder = tmp_path / name
        assert "SYNTHETIC" in (folder / "README.txt").read_text(encoding="utf-8")
        assert "synthetic = true" in (folder / "scenario.toml").read_text(encoding="utf-8")
        check = _planner("validate", str(folder), "--json")
        assert check.returncode == 0, check.stdout[-2000:]
        assert json.loads(check.stdout)["errors"] == 0


@pytest.mark.slow
def test_demo_runs_and_says_where_outputs_are_in_chinese(tmp_path: Path) -> None:
    """``make demo`` under PLANNER_LANG=zh-CN prints and writes Chinese (the English demo
    runs in tests/maps/test_maps_readable.py)."""
    proc = _planner("demo", "--out", str(tmp_path / "out"), lang="zh-CN")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "合成数据" in proc.stdout and "输出位于" in proc.stdout
    assert "SYNTHETIC" not in proc.stdout and "written to" not in proc.stdout
    book = openpyxl.load_workbook(tmp_path / "out" / "western-2006" / "plan.xlsx", read_only=True)
    assert book.sheetnames[0] == "汇总"
    reasons = (tmp_path / "out" / "western-2006" / "unassigned.csv").read_text("utf-8-sig")
    assert re.search(r"[\u4e00-\u9fff]", reasons.splitlines()[1])  # the reason, in Chinese
    page = (tmp_path / "out" / "huaihua-screening" / "map.html").read_text("utf-8")
    assert '<html lang="zh-CN"' in page
    assert str((tmp_path / "out").resolve()) in proc.stdout.replace("\n", "")
    report = json.loads((tmp_path / "out" / "western-2006-validation.json").read_text("utf-8"))
    assert report["ok"] is True
    page = (tmp_path / "out" / "western-2006" / "map.html").resolve()
    assert page.is_file() and str(page) in proc.stdout.replace("\n", "")


def test_validate_unknown_builtin_is_a_clear_error() -> None:
    proc = _planner("validate", "builtin:nope")
    assert proc.returncode == 1
    assert "unknown built-in scenario" in proc.stdout.replace("\n", " ")
    assert "Traceback" not in proc.stdout + proc.stderr


def test_validate_missing_argument_is_a_usage_error() -> None:
    proc = _planner("validate")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
