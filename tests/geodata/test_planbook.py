"""plan.xlsx as an office prints it: the summary with the budget of section 五, a sheet per
service province, translated headers, print settings; every row of the CSVs is there."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import planner
from planner import i18n
from planner.scenario import CATEGORIES, DEGREES, MAJOR_CLASSES
from tests.support.scenario_files import write_tiny


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[planner.Plan, Path]:
    root = tmp_path_factory.mktemp("planbook")
    plan = planner.allocate(
        planner.read_scenario(write_tiny(root / "tiny")), planner.AllocationParams(time_limit=30)
    )
    return plan, root


def _csv(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_workbook_holds_every_row_in_the_offices_language(
    planned: tuple[planner.Plan, Path], lang: str
) -> None:
    plan, root = planned
    folder = root / lang
    with i18n.speaking(lang):
        plan.write(folder)
    book = openpyxl.load_workbook(folder / "plan.xlsx")
    summary = i18n.render("Summary", lang=lang)
    assert book.sheetnames[0] == summary
    provinces = [n for n in book.sheetnames if n[:6].isdigit()]
    assert provinces == ["520000 贵州省"]
    assignments = _csv(folder, "assignments")
    sheet = book[provinces[0]]
    header = [c.value for c in sheet[1]]
    assert header[0] == i18n.render("Applicant ID", lang=lang)
    assert header[-1] == "university"  # a scenario's own column keeps its name
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert len(rows) == len(assignments)
    county = header.index(i18n.render("County code", lang=lang))
    assert [r[county] for r in rows] == assignments["county_code"].tolist()  # codes as text
    for key, csv_name in (("Unassigned", "unassigned"), ("Seats", "seats")):
        got = book[i18n.render(key, lang=lang)]
        assert got.max_row - 1 == len(_csv(folder, csv_name))
    # print settings: frozen and repeated header, A4 landscape one page wide, CNY formats
    assert sheet.freeze_panes == "A2"
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    setup = sheet.page_setup  # one page wide (1 is the default, left out), any pages tall
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0
    budget = header.index(i18n.render("Budget (CNY/year)", lang=lang))
    assert "元" in sheet.cell(row=2, column=budget + 1).number_format


def test_the_budget_follows_section_five(planned: tuple[planner.Plan, Path]) -> None:
    """Living subsidy x 12, transport subsidy and insurance per service province, health
    checks per recruiting province, computed here from assignments.csv and the rules."""
    plan, root = planned
    folder = root / "budget"
    with i18n.speaking("en"):
        plan.write(folder)
    a = _csv(folder, "assignments")
    rules = plan.scenario.data.rules
    living = a["living_subsidy_month"].astype(int).sum() * 12
    transport = a["transport_subsidy"].astype(int).sum()
    insurance = len(a) * rules.insurance_cny
    checks = len(a) * rules.health_check_cny
    book = openpyxl.load_workbook(folder / "plan.xlsx")
    cells = [[c.value for c in r] for r in book["Summary"].iter_rows()]
    head = next(i for i, r in enumerate(cells) if r[0] == "Service province")
    assert cells[head][:6] == [
        "Service province",
        "Volunteers",
        "Living subsidy",
        "Transport subsidy",
        "Insurance",
        "Subtotal",
    ]
    first = cells[head + 1]
    assert first[:6] == [
        "520000 贵州省",
        len(a),
        living,
        transport,
        insurance,
        living + transport + insurance,
    ]
    total = next(r for r in cells if r[0] == "Budget in all (CNY a year)")
    assert total[1] == living + transport + insurance + checks == plan.summary.budget_cny.total
    recruit = next(i for i, r in enumerate(cells) if r[0] == "Recruiting province")
    by_recruit = {r[0][:6]: r[2] for r in cells[recruit + 1 : recruit + 3]}
    counts = a["recruit_province"].value_counts()
    assert by_recruit == {p: int(n) * rules.health_check_cny for p, n in counts.items()}


CODE_WORDS = (
    *CATEGORIES,
    *DEGREES,
    *MAJOR_CLASSES,
    "service",
    "recruit",
    "optimal",
    "time-limit",
    "gap open",
    "wasted_seat",
    "justified_envy",
    "kept",
    "moved",
    "unplaced",
    "dropout",
    "no-quota",
    "barred",
    "no-open-seat",
    "quota-0",
    "health",
    "pairing",
    "no-eligible-post",
    "recruit-target",
    "bachelor-share",
    "dispatch-target",
    "not-selected",
    "True",
    "False",
)
"""Codes of the contract and of a plan: none may show in a Chinese sheet but in a column whose
header says it holds codes (代码) or ids (编号)."""


def english_codes(text: str) -> list[str]:
    """The code words in ``text`` (whole words: ``education`` but not ``educational``)."""
    return [w for w in CODE_WORDS if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text, re.I)]


def test_a_chinese_workbook_shows_labels_not_codes(planned: tuple[planner.Plan, Path]) -> None:
    plan, root = planned
    folder = root / "labels"
    with i18n.speaking("zh-CN"):
        plan.write(folder)
    book = openpyxl.load_workbook(folder / "plan.xlsx")
    seen = set()
    for sheet in book:
        assert not english_codes(sheet.title), sheet.title
        rows = list(sheet.iter_rows(values_only=True))
        header = [str(v or "") for v in rows[0]] if rows else []
        for row in rows:
            for j, value in enumerate(row):
                if not isinstance(value, str):
                    continue
                head = header[j] if j < len(header) else ""
                if "代码" in head or "编号" in head or head == "university":
                    continue
                assert not english_codes(value), (sheet.title, head, value)
                seen.add(value)
    # the labels are there instead: categories, degrees, majors, yes/no, names, the status
    for label in (
        "教育",
        "农业科技",
        "本科",
        "硕士",
        "教育学",
        "是",
        "否",
        "南明区",
        "北京市",
        "最优",
    ):
        assert label in seen, label
    # and the CSVs for machines keep the codes
    assignments = _csv(folder, "assignments")
    assert set(assignments["degree"]) <= set(DEGREES)
    assert set(assignments["category"]) <= set(CATEGORIES)
    # the unfilled quota sheet has its header even when nothing is unfilled
    unfilled = [[c.value for c in r] for r in book["未完成名额"].iter_rows()]
    assert unfilled[0][:3] == ["县代码", "县", "名额"]
