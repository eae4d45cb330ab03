"""Coded columns by their labels: a workbook or CSV may say 本科, 教育, 是 (or bachelor, Y, 1)
where the contract's code is expected, the template offers the labels of its language, and an
unknown value lists them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from geodata.scenario import load_scenario
from geodata.scenario_xlsx import write_template
from planner import i18n, labels
from planner.schema import TABLES
from tests.support.paths import REPO
from tests.support.scenario_files import write_tiny
from tests.support.workbooks import workbook_of

# What an office types, and the code it means: written out by hand from the contract and the
# 2006 plan's words, not taken from planner.labels.
TYPED = {
    "degree": {
        "本科": "bachelor",
        "学士": "bachelor",
        "Bachelor": "bachelor",
        "bachelor": "bachelor",
        "大专": "junior_college",
        "专科": "junior_college",
        "硕士": "master",
        "博士": "doctor",
    },
    "category": {"教育": "education", "医疗卫生": "health", "农业科技": "agriculture"},
    "major_class": {"教育": "education", "教育学": "education", "医学": "medicine", "艺术": "arts"},
    "flag": {"是": "1", "否": "0", "Y": "1", "n": "0", "1": "1", "0": "0", "yes": "1"},
    "role": {"服务省": "service", "招募省": "recruit", "service": "service"},
    "term": {"1年": "1", "两年": "2", "2": "2"},
}

ZH_CATEGORIES = [
    "教育",
    "医疗卫生",
    "农业科技",
    "青年中心",
    "农村现代远程教育",
    "农村文化建设",
    "基层检察机关",
    "基层法律援助",
    "基层人民法院",
    "开发性金融",
    "流动服务",
    "其他",
]


@pytest.mark.parametrize(
    ("vocabulary", "key"),
    [
        (labels.DEGREE, "degree"),
        (labels.CATEGORY, "category"),
        (labels.MAJOR_CLASS, "major_class"),
        (labels.YES_NO, "flag"),
        (labels.ROLE, "role"),
        (labels.TERM, "term"),
    ],
)
def test_what_an_office_types_names_the_code(vocabulary: labels.Vocabulary, key: str) -> None:
    for typed, code in TYPED[key].items():
        assert vocabulary.code(typed) == code, typed
    assert vocabulary.code("no such thing") is None


def test_postgraduate_only_where_it_is_unambiguous() -> None:
    assert labels.DEGREE.code("研究生") is None  # a master or a doctor
    assert labels.MIN_DEGREE.code("研究生") == "master"  # at least a master


@pytest.mark.parametrize("vocabulary", list(labels.VOCABULARIES.values()), ids=lambda v: v.name)
def test_labels_are_distinct_and_read_back(vocabulary: labels.Vocabulary) -> None:
    for lang in i18n.LANGUAGES:
        shown = vocabulary.labels_in(lang)
        assert len(set(shown)) == len(shown), shown
        for code, label in zip(vocabulary.codes, shown, strict=True):
            assert vocabulary.code(label) == code
    zh = vocabulary.labels_in("zh-CN")
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in s) or s[0].isdigit() for s in zh), zh


def test_the_order_of_the_contract() -> None:
    assert labels.CATEGORY.labels_in("zh-CN") == ZH_CATEGORIES
    assert labels.DEGREE.labels_in("zh-CN") == ["大专", "本科", "硕士", "博士"]
    contract = REPO / "docs" / "data-contract.md"
    order = [
        "education",
        "medicine",
        "agriculture",
        "law",
        "economics_finance",
        "engineering",
        "science",
        "humanities",
        "arts",
        "management",
        "other",
    ]
    assert ", ".join(f"`{c}`" for c in order) in " ".join(contract.read_text().split())
    assert list(labels.MAJOR_CLASS.codes) == order


def _labelled_workbook(tmp_path: Path) -> tuple[Path, Path]:
    """The tiny scenario as a zh-CN workbook whose coded cells hold Chinese labels and
    synonyms instead of codes."""
    folder = write_tiny(tmp_path / "tiny")
    book_path = workbook_of(folder, tmp_path / "方案.xlsx", "zh-CN", typed=False)
    book = openpyxl.load_workbook(book_path)
    by_hand = {
        ("岗位", "岗位类别"): {
            "education": "教育",
            "health": "医疗卫生",
            "agriculture": "农业科技",
        },
        ("岗位", "接力岗位"): {"1": "是", "0": "否"},
        ("岗位", "专业要求"): {"medicine": "医学"},
        ("岗位", "最低学历"): {"bachelor": "学士"},
        ("报名志愿者", "学历"): {"bachelor": "本科", "master": "硕士", "junior_college": "大专"},
        ("报名志愿者", "专业类别"): {"education": "教育", "medicine": "医学", "arts": "艺术"},
        ("报名志愿者", "体检合格"): {"1": "是"},
        ("报名志愿者", "服务期（年）"): {"1": "1年", "2": "两年"},
        ("报名志愿者", "倾向岗位类别"): {"education": "教育"},
        ("指标", "类型"): {"service": "服务省", "recruit": "招募指标"},
        ("服务县名额", "暂停派遣"): {"0": "N"},
        ("服务县名额", "上年度服务县"): {"1": "Y"},
    }
    changed = 0
    for (sheet_name, header), values in by_hand.items():
        sheet = book[sheet_name]
        heads = [c.value for c in sheet[1]]
        assert header in heads, (sheet_name, header, heads)
        j = heads.index(header) + 1
        for row in range(2, sheet.max_row + 1):
            cell = sheet.cell(row, j)
            if cell.value in values:
                cell.value = values[cell.value]
                changed += 1
    assert changed > 20
    book.save(book_path)
    return folder, book_path


def test_a_workbook_of_labels_is_the_scenario_of_codes(tmp_path: Path) -> None:
    folder, book = _labelled_workbook(tmp_path)
    by_codes = load_scenario(folder)
    by_labels = load_scenario(book)
    assert by_labels.valid, [i.message for i in by_labels.report.issues]
    for key in ("quotas", "posts", "applicants", "targets"):
        a, b = getattr(by_codes.data, key), getattr(by_labels.data, key)
        for name in TABLES[key].columns:
            if not hasattr(a, name.name):
                continue
            x, y = getattr(a, name.name), getattr(b, name.name)
            if isinstance(x, np.ndarray):
                assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), (key, name.name)
            else:
                assert x == y, (key, name.name)


def test_a_csv_of_labels_and_synonyms(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "tiny")
    posts = pd.read_csv(folder / "posts.csv", dtype=str, keep_default_na=False)
    before = load_scenario(folder).data.posts
    posts["category"] = posts["category"].replace({"education": "教育", "health": "health"})
    posts["relay"] = posts["relay"].replace({"1": "是", "0": "No"})
    posts.loc[0, "required_majors"] = "医学；艺术、education"
    posts.to_csv(folder / "posts.csv", index=False)
    after = load_scenario(folder)
    assert after.valid, [i.message for i in after.report.issues]
    assert np.array_equal(after.data.posts.category, before.category)
    assert np.array_equal(after.data.posts.relay, before.relay)
    assert after.data.posts.required_majors[0] == {"medicine", "arts", "education"}


def test_an_unknown_value_lists_the_labels(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "tiny")
    text = (folder / "applicants.csv").read_text(encoding="utf-8")
    (folder / "applicants.csv").write_text(text.replace(",master,", ",研究生,"), encoding="utf-8")
    (issue,) = load_scenario(folder).report.errors
    assert (issue.file, issue.line, issue.column) == ("applicants.csv", 3, "degree")
    with i18n.speaking("zh-CN"):
        assert "大专、本科、硕士、博士" in issue.message
        assert "bachelor" not in issue.message
    with i18n.speaking("en"):
        assert "junior college, bachelor, master, doctor" in issue.message


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_template_offers_the_labels_and_explains_itself(tmp_path: Path, lang: str) -> None:
    book = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx", lang))
    instructions = i18n.render("Instructions", lang=lang)
    assert book.sheetnames[0] == instructions
    text = "\n".join(
        str(v) for row in book[instructions].iter_rows(values_only=True) for v in row if v
    )
    for key in ("quotas", "posts", "applicants", "pairing", "targets", "stations", "stops"):
        assert i18n.render(TABLES[key].label, lang=lang) in text
    posts = book[i18n.render("Posts", lang=lang)]
    lists = {
        str(dv.sqref).split(":")[0][0]: dv.formula1
        for dv in posts.data_validations.dataValidation
        if dv.type == "list"
    }
    category = lists["D"].strip('"').split(",")
    if lang == "zh-CN":
        assert category == ZH_CATEGORIES
        assert lists["K"].strip('"').split(",") == ["大专", "本科", "硕士", "博士"]
        assert lists["I"].strip('"').split(",") == ["是", "否"]
    else:
        assert category[:3] == ["education", "health", "agriculture"]
        assert lists["K"].strip('"').split(",") == [
            "junior college",
            "bachelor",
            "master",
            "doctor",
        ]


def test_empty_optional_sheets_are_silent_and_switch_nothing_on(tmp_path: Path) -> None:
    """The zh-CN template filled with the tiny scenario's allocation rows (as labels), its
    服务站/服务点/继续在岗志愿者 sheets left empty: no warning, no routing."""
    _, labelled = _labelled_workbook(tmp_path)
    source = openpyxl.load_workbook(labelled)
    template = openpyxl.load_workbook(write_template(tmp_path / "模板.xlsx", "zh-CN"))
    for name in ("服务县名额", "岗位", "报名志愿者", "对口关系", "指标"):
        src, dst = source[name], template[name]
        heads = [c.value for c in dst[1]]
        src_heads = [c.value for c in src[1]]
        dst.delete_rows(2)  # the example row
        for r in range(2, src.max_row + 1):
            row = {h: src.cell(r, j + 1).value for j, h in enumerate(src_heads)}
            dst.append([row.get(h) for h in heads])
    template.save(tmp_path / "filled.xlsx")
    result = load_scenario(tmp_path / "filled.xlsx")
    assert result.valid, [i.message for i in result.report.issues]
    assert [i.rule for i in result.report.issues] == []
    assert result.data.stations is None and result.data.stops is None
    assert len(result.data.applicants) == 4
