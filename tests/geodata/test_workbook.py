"""A scenario as one Excel workbook: read like the folder of CSVs, every problem named by the
cell Excel shows, the template, and a plan made from a workbook end to end."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

import planner
from geodata.scenario import load_scenario
from planner import i18n
from tests.support.scenario_files import write_tiny
from tests.support.workbooks import (
    TABLE_FILES,
    break_cell,
    same_table,
    sheet_label,
    workbook_of,
)

PLANNER = str(Path(sys.executable).with_name("planner"))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_workbook_gives_the_scenario_the_folder_gives(tmp_path: Path, lang: str) -> None:
    folder = write_tiny(tmp_path / "tiny")
    book = workbook_of(folder, tmp_path / "tiny.xlsx", lang)
    files, sheets = load_scenario(folder), load_scenario(book)
    assert sheets.report.errors == [], [i.to_dict() for i in sheets.report.errors]
    for name in TABLE_FILES:
        same_table(getattr(files.data, name), getattr(sheets.data, name), name)
    assert sheets.data.name == "tiny" and sheets.data.year == 2006


def _cells(result: planner.Scenario) -> dict[str, str]:
    return {i.cell or "": i.rule for i in result.report.issues}


def test_problems_are_named_by_the_cell_excel_shows(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "tiny")
    book = workbook_of(folder, tmp_path / "tiny.xlsx", "zh-CN")
    seats = break_cell(book, "岗位", 4, "岗位数", -2)
    degree = break_cell(book, "报名志愿者", 3, "学历", "phd")
    code = break_cell(book, "服务县名额", 2, "服务县代码", 529999)
    result = load_scenario(book)
    assert not result.valid
    found = _cells(result)
    assert found[seats] == "bad-value" and seats.startswith("岗位!")
    assert found[degree] == "bad-value"
    assert found[code] == "unknown-county"
    with i18n.speaking("zh-CN"):
        issue = next(i for i in result.report.errors if i.cell == seats)
        assert issue.where() == seats


def test_what_excel_adds_is_handled_or_reported(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "tiny")
    book_path = workbook_of(folder, tmp_path / "tiny.xlsx", "en")
    book = openpyxl.load_workbook(book_path)
    posts = book["Posts"]
    posts.append([])  # trailing empty rows
    posts.append([None, None])
    posts.insert_rows(3)  # an empty row inside the table
    posts.cell(row=8, column=1, value="# a comment row")
    book.create_sheet("notes").append(["anything"])
    hidden = book["Pairing"]
    hidden.sheet_state = "hidden"
    book.save(book_path)
    result = load_scenario(book_path)
    rules = {(i.file, i.rule, i.severity.value) for i in result.report.issues}
    assert ("notes", "unknown-sheet", "warning") in rules
    assert ("Pairing", "hidden-sheet", "warning") in rules
    assert result.valid, [i.to_dict() for i in result.report.errors]
    assert len(result.data.posts) == 5
    # merged cells and a date where a code belongs are errors that name the cells
    book = openpyxl.load_workbook(book_path)
    book["Posts"].merge_cells("H4:H5")
    book["Quotas"]["A2"] = dt.date(2026, 5, 1)
    book.save(book_path)
    result = load_scenario(book_path)
    errors = {(i.cell or i.file, i.rule) for i in result.report.errors}
    assert ("Posts!4:4", "merged-cells") in errors
    assert ("Quotas!A2", "bad-value") in errors
    assert any("2026-05-01" in i.message for i in result.report.errors)


def test_a_file_that_is_no_workbook(tmp_path: Path) -> None:
    fake = tmp_path / "scenario.xlsx"
    fake.write_bytes(b"not a zip at all")
    result = load_scenario(fake)
    assert [i.rule for i in result.report.errors] == ["not-a-workbook"]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_template(tmp_path: Path, lang: str) -> None:
    out = tmp_path / ("模板.xlsx" if lang == "zh-CN" else "template.xlsx")
    proc = subprocess.run(
        [PLANNER, "template", "--lang", lang, "--out", str(out)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    book = openpyxl.load_workbook(out)
    expected = [i18n.render("Instructions", lang=lang), i18n.render("Settings", lang=lang)] + [
        sheet_label(k, lang) for k in TABLE_FILES
    ]
    assert book.sheetnames == expected
    posts = book[sheet_label("posts", lang)]
    header = [c.value for c in posts[1]]
    assert header[0] == i18n.render("Post ID", lang=lang)
    assert posts["A2"].value.startswith("#")  # the example row is a comment
    comment = posts["A1"].comment
    assert (
        comment is not None and i18n.render("A unique id of the post.", lang=lang) in comment.text
    )
    category = header.index(i18n.render("Category", lang=lang))
    lists = [dv for dv in posts.data_validations.dataValidation if dv.type == "list"]
    assert any(get_column_letter(category + 1) in str(dv.sqref) for dv in lists)
    assert posts.freeze_panes == "A2"
    # the template as given is a scenario without rows: no error
    result = load_scenario(out)
    assert result.valid and len(result.data.posts) == 0


def test_a_plan_from_a_workbook_end_to_end(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "tiny")
    book = workbook_of(folder, tmp_path / "方案.xlsx", "zh-CN")
    out = tmp_path / "plan"
    proc = subprocess.run(
        [PLANNER, "plan", str(book), "--out", str(out), "--time-limit", "30"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    direct = planner.allocate(planner.read_scenario(folder), planner.AllocationParams(30))
    assert summary["objective"] == direct.objective
    assert summary["scenario"]["source"] == str(book.resolve())
    written = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False)
    assert np.array_equal(written["applicant_id"], direct.assignments["applicant_id"])


def test_validate_names_the_cell_in_chinese(tmp_path: Path) -> None:
    """`planner validate` on a broken workbook, under PLANNER_LANG=zh-CN: Chinese messages,
    each naming the cell as Excel shows it."""
    folder = write_tiny(tmp_path / "tiny")
    book = workbook_of(folder, tmp_path / "方案.xlsx", "zh-CN")
    seats = break_cell(book, "岗位", 4, "岗位数", -2)
    degree = break_cell(book, "报名志愿者", 3, "学历", "phd")
    proc = subprocess.run(
        [PLANNER, "validate", str(book)],
        capture_output=True,
        text=True,
        env={**os.environ, "PLANNER_LANG": "zh-CN", "COLUMNS": "220"},
    )
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    for cell in (seats, degree):
        (line,) = [x for x in lines if cell in x]
        assert re.search(r"[\u4e00-\u9fff]", line.split(cell, 1)[1]), line
        assert "expected" not in line and "found" not in line
    assert "2 个错误" in proc.stdout
    as_json = subprocess.run(
        [PLANNER, "validate", str(book), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PLANNER_LANG": "zh-CN"},
    )
    issues = json.loads(as_json.stdout)["issues"]
    assert {i["cell"] for i in issues if i["severity"] == "error"} == {seats, degree}
