"""The language of a ``planner`` run: decided once, before any help or error is shown, from
``--lang`` (anywhere on the line), else ``PLANNER_LANG``, else the system's locale; the help
and an error of every command group in zh-CN and in en."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.rich_utils as panels
from typer.testing import CliRunner

from api.cli import app, language
from planner import i18n

CJK = re.compile(r"[\u4e00-\u9fff]")
LANGUAGES = ("zh-CN", "en")


@pytest.fixture(autouse=True)
def _language_restored() -> Iterator[None]:
    """Each invocation speaks its language in this process: give the other tests theirs
    back, Typer's panel words included."""
    saved = {name: getattr(panels, name) for name in language.TYPER_TEXTS}
    with i18n.speaking(i18n.language()):
        yield
    for name, text in saved.items():
        setattr(panels, name, text)


def _flat(text: str) -> str:
    """``text`` without white space and box lines (Rich wraps and frames as the width
    allows)."""
    return re.sub(r"[\s│╭╮╰╯─┃┏┓┗┛━┳┻]", "", text)


def _shows(output: str, template: str, lang: str, **fields: object) -> bool:
    """Whether ``output`` shows ``template`` as the catalogue words it in ``lang``."""
    return _flat(i18n.render(template, fields, lang)) in _flat(output)


# --- the function that decides --------------------------------------------------------------


def test_the_option_comes_first_then_planner_lang_then_the_locale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLANNER_LANG", "en")
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    assert language.decide_language("zh") == "zh-CN"
    assert language.decide_language("en-GB") == "en"
    assert language.decide_language(None) == "en"
    monkeypatch.setenv("PLANNER_LANG", "zh_CN.UTF-8")
    assert language.decide_language(None) == "zh-CN"
    monkeypatch.delenv("PLANNER_LANG")
    assert language.decide_language(None) == "zh-CN"  # LC_ALL
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    assert language.decide_language(None) == "en"
    with pytest.raises(ValueError):
        language.decide_language("fr")


@pytest.mark.parametrize(
    "args, asked, rest",
    [
        (["--lang", "zh-CN", "plan", "x"], "zh-CN", ["plan", "x"]),
        (["keys", "list", "--lang", "en"], "en", ["keys", "list"]),
        (["plan", "--lang=zh", "x", "--out", "o"], "zh", ["plan", "x", "--out", "o"]),
        (["validate", "x", "--lang"], None, ["validate", "x", "--lang"]),
        (["validate", "x"], None, ["validate", "x"]),
    ],
)
def test_lang_is_taken_from_anywhere_on_the_line(
    args: list[str], asked: str | None, rest: list[str]
) -> None:
    assert language.split_language(args) == (asked, rest)


@pytest.mark.parametrize(
    "args, asked",
    [
        (["--lang", "zh-CN", "validate", "--help"], "zh-CN"),
        (["validate", "--help", "--lang", "en"], "en"),
        (["roads", "build", "x.pbf", "--out", "y", "--bbox", "1,2,3", "--lang", "zh-CN"], "zh-CN"),
        (["keys", "--help"], None),
        ([], None),
    ],
)
def test_the_language_is_decided_once_a_run(
    args: list[str], asked: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str | None] = []
    decide = language.decide_language

    def counted(value: str | None) -> str:
        calls.append(value)
        return decide(value)

    monkeypatch.setattr(language, "decide_language", counted)
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 2), result.output
    assert calls == [asked]


# --- help and errors of every group in both languages -------------------------------------

HELP = {
    (
        "validate",
    ): "Check a scenario; print every problem with file, line and column. Exit 1 on errors.",
    ("template",): "The workbook to write (.xlsx).",
    (
        "plan",
    ): "Assign applicants to posts under rules A1-A6; write assignments, seats, summary, xlsx.",
    ("explain",): "The applicant's id.",
    (
        "route",
    ): "Route the service vehicles: routes.csv, routes.geojson, coverage.csv, summary.json.",
    ("sweep",): "Folder for sweep.csv and sweep.html.",
    ("serve",): "Port to listen on.",
    ("audit",): "At most this many events.",
    ("keys", "create"): "Who holds the key.",
    ("roads",): "Road networks from an OpenStreetMap extract: build a graph, drive matrices.",
    ("roads", "build"): "Metres kept around the counties.",
}
"""A help text of a command of each group (the English template; the catalogue words it in
Chinese)."""


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("command", sorted(HELP))
def test_the_help_of_every_group_speaks_the_language_asked(
    command: tuple[str, ...], lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = "en" if lang == "zh-CN" else "zh-CN"
    monkeypatch.setenv("PLANNER_LANG", other)  # --lang wins
    for args in (["--lang", lang, *command, "--help"], [*command, "--help", f"--lang={lang}"]):
        shown = CliRunner().invoke(app, args)
        assert shown.exit_code == 0, shown.output
        assert _shows(shown.output, HELP[command], lang), shown.output
        assert _shows(shown.output, "Options", lang), shown.output
        assert bool(CJK.search(shown.output)) == (lang == "zh-CN"), shown.output


@pytest.mark.parametrize("lang", LANGUAGES)
def test_planner_alone_shows_its_help_in_the_language_of_planner_lang(
    lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANNER_LANG", lang)
    shown = CliRunner().invoke(app, [])
    assert _shows(shown.output, "Commands", lang), shown.output
    assert _shows(shown.output, HELP[("route",)], lang), shown.output


def _errors(tmp: Path) -> list[tuple[list[str], int, str, dict[str, object]]]:
    """A wrong command line of each group: the arguments, the exit code, the template of
    the message (``Error`` for Click's usage errors, whose panel title is translated) and its
    fields."""
    missing = tmp / "missing"
    scenario, out = "builtin:huaihua-screening", str(tmp / "out")
    return [
        (["validate", str(missing)], 1, "Problems in {source}", {"source": missing}),
        (["nosuch"], 2, "Error", {}),
        (
            ["plan", scenario, "--out", out, "--previous", str(missing)],
            2,
            "--previous {folder}: no assignments.csv there; expected an earlier plan folder",
            {"folder": missing},
        ),
        (
            ["route", scenario, "--out", out, "--plan", str(missing)],
            2,
            "--plan {folder}: no assignments.csv there; expected a plan folder",
            {"folder": missing},
        ),
        (
            ["vrp", str(missing), "--engine", "foo"],
            2,
            "--engine {engine!r}; expected one of {engines}",
            {"engine": "foo", "engines": "pyvrp, ortools"},
        ),
        (["sweep", scenario, "--out", out, "--vary", "bad"], 2, "", {}),
        (["serve", "--port", "eighty"], 2, "Error", {}),
        (["audit", "--since", "yesterday"], 2, "", {}),
        (["keys", "revoke"], 2, "Error", {}),
        (
            ["roads", "build", "x.pbf", "--out", out, "--bbox", "1,2,3"],
            2,
            "{option} {text!r}: expected {n} numbers separated by commas",
            {"option": "--bbox", "text": "1,2,3", "n": 4},
        ),
    ]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_error_of_every_group_speaks_the_language_asked(
    lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANNER_LANG", "en" if lang == "zh-CN" else "zh-CN")
    monkeypatch.setenv("PLANNER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    for args, code, template, fields in _errors(tmp_path):
        shown = CliRunner().invoke(app, [*args, "--lang", lang])
        assert shown.exit_code == code, (args, shown.output)
        assert bool(CJK.search(shown.output)) == (lang == "zh-CN"), (args, shown.output)
        if template:
            assert _shows(shown.output, template, lang, **fields), (args, shown.output)


def test_an_unknown_language_exits_2_naming_the_languages() -> None:
    shown = CliRunner().invoke(app, ["validate", "x", "--lang", "fr"])
    assert shown.exit_code == 2
    assert "'fr'" in shown.output and "zh-CN,en" in _flat(shown.output)
