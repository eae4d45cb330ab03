"""The workbook sheet 调整: ``planner plan SCENARIO --pins BOOK.xlsx`` reads the office's
decisions from it, headers and actions in Chinese or English; bad rows are named by sheet,
row, column, cell and the value expected."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from geodata.planfolder import read_pins
from planner import i18n
from planner.pins import PinError
from tests.support.api import PLANNER
from tests.support.scenario_files import write_tiny


def _book(path: Path, title: str, header: list[str], rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "说明"
    ws = book.create_sheet(title)
    ws.append(header)
    for r in rows:
        ws.append(r)
    book.save(path)
    return path


def test_the_sheet_in_chinese_and_in_english(tmp_path: Path) -> None:
    zh = _book(tmp_path / "zh.xlsx", "调整", ["操作", "报名编号", "岗位编号"],
               [["关闭岗位", None, "PA1"], [None, None, None], ["不予安排", "A2", None],
                ["留在此岗位", "A4", "PB1"], ["禁止", "A1", "PA3"]])  # fmt: skip
    en = _book(tmp_path / "en.xlsx", "Decisions", ["post_id", "Applicant ID", "action"],
               [["PA1", None, "close"], [None, "A2", "exclude"], ["PB1", "A4", "assign"],
                ["PA3", "A1", "never this pair"]])  # fmt: skip
    for path in (zh, en):
        pins = read_pins(path)
        assert dict(pins.assign) == {"A4": "PB1"}
        assert list(pins.forbid) == [("A1", "PA3")]
        assert list(pins.close_posts) == ["PA1"] and list(pins.exclude) == ["A2"]


def test_bad_rows_are_named_by_sheet_row_column_and_cell(tmp_path: Path) -> None:
    book = _book(tmp_path / "bad.xlsx", "调整", ["报名编号", "操作", "岗位编号"],
                 [["A1", "提拔", "PA1"], ["A2", "留在此岗位", None], [None, "关闭岗位", "PA1"],
                  [None, "关闭岗位", "PA1"]])  # fmt: skip
    with pytest.raises(PinError) as caught:
        read_pins(book)
    found = {(i.file, i.line, i.column, i.cell) for i in caught.value.report.errors}
    assert found == {
        ("调整", 2, "action", "调整!B2"),  # 提拔 is no action
        ("调整", 3, "post_id", "调整!C3"),  # an assign without a post
        ("调整", 5, "action", "调整!B5"),  # the same close twice
    }
    with i18n.speaking("zh-CN"):
        messages = [i.message for i in caught.value.report.errors]
    assert any("提拔" in m and "assign" in m for m in messages), messages
    no_sheet = _book(tmp_path / "none.xlsx", "岗位", ["操作"], [])
    with pytest.raises(PinError) as caught:
        read_pins(no_sheet)
    assert caught.value.report.errors[0].rule == "missing-sheet"
    no_column = _book(tmp_path / "col.xlsx", "调整", ["操作", "报名编号"], [["关闭岗位", ""]])
    with pytest.raises(PinError) as caught:
        read_pins(no_column)
    assert [(i.column, i.rule) for i in caught.value.report.errors] == [
        ("post_id", "missing-column")
    ]


@pytest.mark.slow
def test_planner_plan_reads_the_sheet(tmp_path: Path) -> None:
    scenario = write_tiny(tmp_path / "tiny")
    book = _book(tmp_path / "调整.xlsx", "调整", ["操作", "报名编号", "岗位编号"],
                 [["关闭岗位", None, "PA1"], ["留在此岗位", "A4", "PB1"]])  # fmt: skip
    out = tmp_path / "pinned"
    proc = subprocess.run(
        [PLANNER, "plan", str(scenario), "--out", str(out), "--pins", str(book)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    placed = pd.read_csv(out / "assignments.csv", dtype=str, encoding="utf-8-sig")
    where = dict(zip(placed["applicant_id"], placed["post_id"], strict=True))
    assert where.get("A4") == "PB1" and "PA1" not in set(where.values())
    pins = pd.read_csv(out / "pins.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert sorted(map(tuple, pins.to_numpy().tolist())) == [
        ("assign", "A4", "PB1"),
        ("close", "", "PA1"),
    ]
    bad = _book(
        tmp_path / "bad.xlsx", "调整", ["操作", "报名编号", "岗位编号"], [["提拔", "A1", "PA1"]]
    )
    proc = subprocess.run(
        [PLANNER, "plan", str(scenario), "--out", str(tmp_path / "x"), "--pins", str(bad)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.returncode == 1 and "调整!A2" in proc.stdout + proc.stderr
