"""The interface languages: every marked template has its zh-CN translation, validation
messages are templates (never pre-formatted text), and the language is chosen as documented.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from planner import i18n
from planner.i18n import Text
from planner.issues import Report

ROOT = Path(__file__).resolve().parents[1]
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
