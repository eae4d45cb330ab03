"""Issue 22 item 1: every workbook we write keeps text as text. A scenario whose cells hold
formulas and links gives a plan.xlsx with no formula and no hyperlink, and the text reads
back exactly; the same holds for the template and for anything written through
:func:`geodata.xlsx_writer.open_workbook`.

The workbooks are read with openpyxl, not with the writer: a formula cell is one whose type is
``f`` (openpyxl keeps the formula text), a link is a cell's ``hyperlink``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import openpyxl
import pytest

import planner
from geodata.scenario_xlsx import write_template
from geodata.xlsx_writer import open_workbook
from planner import i18n
from tests.support.hostile import FORMULAS, HOSTILE, write_hostile


def _cells(path: Path) -> tuple[int, int, Counter[str]]:
    """Formula cells, hyperlinked cells and the text of every string cell of a workbook."""
    book = openpyxl.load_workbook(path)
    formulas = links = 0
    texts: Counter[str] = Counter()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                formulas += cell.data_type == "f"
                links += cell.hyperlink is not None
                if cell.data_type == "s":
                    texts[cell.value] += 1
        links += len(sheet._hyperlinks)  # links a writer stored apart from the cells
    return formulas, links, texts


@pytest.fixture(scope="module")
def hostile_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    scenario = planner.read_scenario(write_hostile(root / "scenario"))
    scenario.report.raise_for_errors()
    plan = planner.allocate(scenario, planner.AllocationParams(time_limit=30))
    with i18n.speaking("zh-CN"):
        plan.write(root / "plan")
    return root / "plan"


def test_plan_workbook_has_no_formula_and_keeps_the_text(hostile_plan: Path) -> None:
    formulas, links, texts = _cells(hostile_plan / "plan.xlsx")
    assert formulas == 0
    assert links == 0
    for value in HOSTILE:  # each applicant id, township name and university, exactly
        assert texts[value] > 0, value
    ids = {v for v in FORMULAS if texts[v]}
    assert ids == set(FORMULAS)  # every applicant is on a sheet (placed or not)


def test_template_has_no_formula(tmp_path: Path) -> None:
    for lang in ("zh-CN", "en"):
        formulas, links, texts = _cells(write_template(tmp_path / f"{lang}.xlsx", lang))
        assert (formulas, links) == (0, 0)
        assert texts  # headers and examples were written


def test_any_workbook_we_open_writes_strings_as_strings(tmp_path: Path) -> None:
    path = tmp_path / "any.xlsx"
    book = open_workbook(path, constant_memory=True)
    sheet = book.add_worksheet("x")
    sheet.write_row(0, 0, list(HOSTILE))
    sheet.write(1, 0, "123")  # a string that looks like a number stays a string
    book.close()
    formulas, links, texts = _cells(path)
    assert (formulas, links) == (0, 0)
    assert all(texts[v] == 1 for v in HOSTILE)
    assert texts["123"] == 1
