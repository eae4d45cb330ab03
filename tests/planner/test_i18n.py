"""The interface languages: every marked template has its zh-CN translation, validation
messages are templates (never pre-formatted text), and the language is chosen as documented.
"""

from __future__ import annotations

import ast
import json
import os
import re
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import planner
from geodata.scenario import load_scenario
from planner import i18n
from planner.i18n import Text
from planner.issues import Issue, Report
from planner.routing.result import REASONS
from tests.support.paths import REPO
from tests.support.scenario_files import write_tiny
from tests.support.zoo import CASES, Case, make_case

ROOT = REPO
PACKAGES = ("planner", "geodata", "maps", "api")
KEYWORDS = {"N_": None, "_": None, "_n": (1, 2)}


def _templates() -> dict[str, str]:
    """Every template marked in the code and in the pages' HTML templates (msgid -> where),
    as ``make messages`` extracts."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / package,
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
            keywords=KEYWORDS,
        ):
            for msgid in message if isinstance(message, tuple) else (message,):
                found.setdefault(msgid, f"{package}/{filename}:{lineno}")
    return found


def _catalogue() -> dict[str, str | tuple[str, ...]]:
    po = ROOT / "planner" / "locale" / "zh_CN" / "LC_MESSAGES" / "westplan.po"
    with po.open("rb") as f:
        catalog = read_po(f)
    out: dict[str, str | tuple[str, ...]] = {}
    for m in catalog:
        if not m.id or m.fuzzy:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        for msgid in ids:
            out[msgid] = m.string
    return out


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_template_has_its_translation() -> None:
    templates = _templates()
    catalogue = _catalogue()
    missing = [
        f"{where}: {msgid!r}" for msgid, where in templates.items() if msgid not in catalogue
    ]
    assert not missing, "no zh-CN translation (run `make messages`, then translate):\n" + "\n".join(
        missing[:40]
    )
    empty = [f"{templates[m]}: {m!r}" for m, s in catalogue.items() if m in templates and not s]
    assert not empty, "empty zh-CN translation:\n" + "\n".join(empty[:40])
    for msgid, translated in catalogue.items():
        for text in translated if isinstance(translated, tuple) else (translated,):
            assert _fields(text) == _fields(msgid), f"fields differ: {msgid!r} -> {text!r}"


def _message_argument(call: ast.Call) -> ast.expr | None:
    return call.args[4] if len(call.args) >= 5 else None


def test_validation_messages_are_marked_templates() -> None:
    """Every ``report.error``/``report.warning`` passes its message as ``N_("...")`` with the
    values as fields, so that it is translated when read (an f-string would not be)."""
    bad = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("error", "warning")
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "report"
                ):
                    continue
                arg = _message_argument(node)
                marked = (
                    isinstance(arg, ast.Call)
                    and isinstance(arg.func, ast.Name)
                    and arg.func.id == "N_"
                    and isinstance(arg.args[0], ast.Constant)
                )
                if not marked:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, "messages not marked with N_(...):\n" + "\n".join(bad)


def test_a_message_is_read_in_the_readers_language() -> None:
    report = Report()
    report.error("posts.csv", 2, "seats", "bad-value", "line {line}", line=7)
    (issue,) = report.issues
    with i18n.speaking("en"):
        assert issue.message == "line 7"
        english = issue.where()
    with i18n.speaking("zh-CN"):
        assert issue.message != "line 7" and "7" in issue.message
        assert re.search(r"[\u4e00-\u9fff]", issue.where())
    assert english == "posts.csv, line 2, column seats"
    # a field that is itself a text is read in the same language
    nested = Text("line {line}", {"line": Text("column {column}", {"column": "x"})})
    with i18n.speaking("zh-CN"):
        assert re.search(r"[\u4e00-\u9fff].*[\u4e00-\u9fff]", str(nested))


@pytest.mark.parametrize(
    "tag, lang",
    [
        ("zh", "zh-CN"),
        ("zh_CN.UTF-8", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("en-GB", "en"),
        ("C.UTF-8", None),
        ("fr", None),
        ("", None),
    ],
)
def test_normalize(tag: str, lang: str | None) -> None:
    assert i18n.normalize(tag) == lang


def test_choose_follows_the_documented_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.delenv(i18n.ENV, raising=False)
    assert i18n.choose() == "zh-CN"  # the system locale
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert i18n.choose() == "en"
    monkeypatch.setenv(i18n.ENV, "zh-CN")
    assert i18n.choose(None, None) == "zh-CN"  # PLANNER_LANG
    assert i18n.choose("en", "zh") == "en"  # --lang first
    assert i18n.choose(None, "en") == "en"  # then the scenario / the browser


@pytest.mark.parametrize(
    "header, lang",
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR, en;q=0.5, zh;q=0.7", "zh-CN"),
        ("fr-FR", None),
        ("zh;q=0, en;q=0.1", "en"),
        (None, None),
    ],
)
def test_accept_language(header: str | None, lang: str | None) -> None:
    assert i18n.accept_language(header) == lang


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="expected one of zh-CN, en"):
        i18n.use("fr")


CJK = re.compile(r"[\u3400-\u9fff]")
PLACE = re.compile(r"[\u4e00-\u9fff]+ \(\d{6}\)")
"""A place named in an English sentence: its Chinese name and its code."""


def _templates_of(text: Text) -> list[str]:
    """The template of ``text`` and of every text among its fields, nested."""
    found = [text.template]
    for value in text.fields.values():
        if isinstance(value, Text):
            found += _templates_of(value)
    return found


def _plain_fields(text: Text) -> list[str]:
    """The values of ``text``'s fields that are no text (ids, codes, names), nested."""
    found = []
    for value in text.fields.values():
        found += _plain_fields(value) if isinstance(value, Text) else [str(value)]
    return found


def _place(issue: Issue) -> dict[str, Any]:
    return {k: v for k, v in issue.to_dict().items() if k != "message"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_zoo_case_reads_in_chinese_and_in_english(case: Case, tmp_path: Path) -> None:
    """Each problem of a zoo case: under zh-CN a Chinese message whose every template (the
    nested ones too) has its translation; under en the English one, with no Chinese but
    what the data put in; the same file, line, column, severity and rule in both."""
    report = load_scenario(make_case(case, tmp_path)).report
    chinese = i18n.translations("zh-CN")
    assert report.issues
    for issue in report.issues:
        with i18n.speaking("zh-CN"):
            zh, zh_place, zh_where = issue.message, _place(issue), issue.where()
        with i18n.speaking("en"):
            en, en_place, en_where = issue.message, _place(issue), issue.where()
        for template in _templates_of(issue.text):
            assert chinese.gettext(template) != template, f"untranslated: {template!r}"
        assert CJK.search(zh) and zh != en, (zh, en)
        english = en
        for value in _plain_fields(issue.text):
            english = english.replace(value, "")
        assert re.search(r"[A-Za-z]{3,}", english) and not CJK.search(english), en
        assert zh_place == en_place
        assert (zh_place["file"], zh_place["line"], zh_place["column"]) == (
            issue.file,
            issue.line,
            issue.column,
        )
        if issue.line is not None:
            assert f"line {issue.line}" in en_where and f"第 {issue.line} 行" in zh_where
    found = [(i.file, i.line, i.column, i.rule, i.severity.value) for i in report.issues]
    for e in case.expect:
        assert (e.file, e.line, e.column, e.rule, e.severity) in found


def test_planner_validate_prints_chinese_messages(tmp_path: Path) -> None:
    """``planner validate`` under PLANNER_LANG=zh-CN: the messages of a broken scenario in
    Chinese, as the catalogue words them (the CLI's own words are not checked here)."""
    case = next(c for c in CASES if c.name == "negative-seats")
    target = make_case(case, tmp_path)
    env = {**os.environ, i18n.ENV: "zh-CN", "COLUMNS": "300"}

    def validate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "api.cli", "validate", str(target), *args],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )

    expected = i18n.render(
        "found {found!r}; expected {what}",
        {"found": "-2", "what": Text("a whole number >= 0, not a negative number")},
        lang="zh-CN",
    )
    assert CJK.search(expected) and "-2" in expected
    as_json = validate("--json")
    assert as_json.returncode == 1, as_json.stderr
    issues = json.loads(as_json.stdout)["issues"]
    (seats,) = [
        i for i in issues if (i["file"], i["line"], i["column"]) == ("posts.csv", 2, "seats")
    ]
    assert seats["rule"] == "bad-value" and seats["message"] == expected
    assert all(CJK.search(i["message"]) for i in issues)
    table = validate()
    assert table.returncode == 1 and "Traceback" not in table.stderr
    assert expected in table.stdout


def _keys(value: Any) -> Any:
    """The structure of a JSON document: its keys, nested, without the values."""
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys(v) for v in value]
    return None


def test_a_plan_folder_is_written_in_the_language_of_the_moment(tmp_path: Path) -> None:
    """A plan and routes made in English, written under zh-CN and under en: the reasons and
    causes a person reads are in the language of the writing, the codes, columns and keys the
    same in both."""
    scenario = planner.read_scenario(write_tiny(tmp_path / "tiny"))
    with i18n.speaking("en"):
        plan = planner.allocate(scenario, planner.AllocationParams(time_limit=30, workers=1))
        routes = planner.route(  # nobody crews the vehicles: every stop is left, no_crew
            scenario, crews={}, params=planner.RoutingParams(time_limit=5, workers=1)
        )
    assert plan.language == routes.language == "en"
    for lang in ("zh-CN", "en"):
        with i18n.speaking(lang):
            plan.write(tmp_path / lang)
            routes.write(tmp_path / lang)
    read = {
        lang: {
            name: pd.read_csv(tmp_path / lang / f"{name}.csv", dtype=str, encoding="utf-8-sig")
            for name in ("unassigned", "unserved")
        }
        for lang in ("zh-CN", "en")
    }
    summary = {
        lang: json.loads((tmp_path / lang / "summary.json").read_text(encoding="utf-8"))
        for lang in ("zh-CN", "en")
    }
    zh, en = read["zh-CN"], read["en"]
    assert len(zh["unassigned"]) and len(zh["unserved"])
    for name in ("unassigned", "unserved"):
        assert list(zh[name].columns) == list(en[name].columns)
        assert zh[name]["reason_code"].tolist() == en[name]["reason_code"].tolist()
        assert all(CJK.search(r) for r in zh[name]["reason"])
        # names of places are Chinese in both languages: 江苏省 (320000)
        assert not any(CJK.search(PLACE.sub("", r)) for r in en[name]["reason"])
    assert en["unassigned"]["reason"].tolist() == plan.unassigned["reason"].tolist()
    assert set(zh["unserved"]["reason_code"]) == {"no_crew"}
    chinese = i18n.translations("zh-CN").gettext(REASONS["no_crew"])
    assert set(zh["unserved"]["reason"]) == {chinese} and set(en["unserved"]["reason"]) == {
        REASONS["no_crew"]
    }
    assert _keys(summary["zh-CN"]) == _keys(summary["en"])
    causes = [u["cause"] for u in summary["zh-CN"]["unfilled_quota"]]
    assert causes and all(CJK.search(c) and "bachelor-share" not in c and "A4" in c for c in causes)
    assert all(CJK.search(t) for t in summary["zh-CN"]["routing"]["reasons"].values())
    assert summary["en"]["routing"]["reasons"] == REASONS
    assert summary["zh-CN"]["decisions"] == summary["en"]["decisions"]  # for engineers
