"""Issue 22 item 3/5 for the settings: every number of ``scenario.toml`` (``year``, ``[rules]``,
``[weights]``, ``[routing]``) and of a workbook's settings sheet has a documented range;
``1e308``, ``inf``, ``nan``, ``99999999999999999999999`` are issues naming the file, the key
and the range, in en and zh-CN, never an overflow, a crash or a solver's error later."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pytest

import planner
from planner import scenario as sc
from planner.issues import Issue
from tests.support.scenario_files import write_tiny
from tests.support.workbooks import workbook_of

ABSURD = ("1e308", "inf", "-inf", "nan", "99999999999999999999999")
RULE_NUMBERS = [k for k in sc.RULE_RANGES]
WEIGHTS = [f.name for f in sc.Weights.__dataclass_fields__.values()]


def _with_setting(folder: Path, section: str | None, line: str) -> Path:
    """``scenario.toml`` of ``folder`` with ``line`` in ``[section]`` (top level for None)."""
    path = folder / "scenario.toml"
    text = path.read_text(encoding="utf-8")
    key = line.split("=")[0].strip()
    kept = [t for t in text.splitlines() if t.split("=")[0].strip() != key]
    text = "\n".join(kept) + "\n"
    if section is None:
        text = f"{line}\n{text}"
    elif f"[{section}]\n" in text:
        text = text.replace(f"[{section}]\n", f"[{section}]\n{line}\n")
    else:
        text += f"\n[{section}]\n{line}\n"
    path.write_text(text, encoding="utf-8")
    return folder


def _the_issue(folder: Path, file: str, key: str) -> Issue:
    scenario = planner.read_scenario(folder)  # never raises
    found = [i for i in scenario.report.errors if i.file == file and i.column == key]
    assert len(found) == 1, [i.text.render("en") for i in scenario.report.errors]
    return found[0]


def _names_range(issue: Issue, key: str, least: str, most: str) -> None:
    for lang in ("en", "zh-CN"):
        text = issue.text.render(lang)
        assert key in text and least in text and most in text, text
    assert "expected" not in issue.text.render("zh-CN")  # translated


@pytest.mark.parametrize("value", ABSURD)
@pytest.mark.parametrize("key", RULE_NUMBERS)
def test_an_absurd_rule_names_file_key_and_range(tmp_path: Path, key: str, value: str) -> None:
    written = f"[0.0, {value}]" if isinstance(getattr(sc.Rules(), key), tuple) else value
    folder = _with_setting(write_tiny(tmp_path / "tiny"), "rules", f"{key} = {written}")
    issue = _the_issue(folder, "scenario.toml", key)
    least, most = sc.RULE_RANGES[key]
    _names_range(issue, key, f"{least:,g}", f"{int(most):,}")
    assert issue.line is not None  # the line of the key in scenario.toml


@pytest.mark.parametrize("value", ABSURD)
@pytest.mark.parametrize("key", WEIGHTS)
def test_an_absurd_weight_names_file_key_and_range(tmp_path: Path, key: str, value: str) -> None:
    folder = _with_setting(write_tiny(tmp_path / "tiny"), "weights", f"{key} = {value}")
    _names_range(_the_issue(folder, "scenario.toml", key), key, "0", f"{sc.MAX_WEIGHT:,}")


@pytest.mark.parametrize("value", ABSURD)
def test_an_absurd_year_is_an_issue(tmp_path: Path, value: str) -> None:
    folder = _with_setting(write_tiny(tmp_path / "tiny"), None, f"year = {value}")
    low, high = sc.YEAR_RANGE
    _names_range(_the_issue(folder, "scenario.toml", "year"), "year", str(low), str(high))


@pytest.mark.parametrize("value", ABSURD)
def test_absurd_routing_numbers_are_issues(tmp_path: Path, value: str) -> None:
    folder = write_tiny(tmp_path / "tiny")
    (folder / "roads").mkdir()
    (folder / "roads" / "manifest.json").write_text("{}", encoding="utf-8")
    routing = f'roads = "roads"\nsnap_limit_m = {value}'
    _with_setting(folder, "routing", routing)
    _names_range(
        _the_issue(folder, "scenario.toml", "snap_limit_m"), "snap_limit_m", "0", "100,000"
    )
    text = (folder / "scenario.toml").read_text(encoding="utf-8")
    (folder / "scenario.toml").write_text(
        text.replace(f"snap_limit_m = {value}", f"[routing.speeds]\nprimary = {value}"),
        encoding="utf-8",
    )
    _names_range(_the_issue(folder, "scenario.toml", "primary"), "primary", "0", "300")


def test_the_ranges_keep_the_defaults_and_cover_every_number() -> None:
    rules = sc.Rules()
    numbers = {
        f
        for f in sc.Rules.__dataclass_fields__
        if not isinstance(getattr(rules, f), bool)
        and isinstance(getattr(rules, f), int | float | tuple)
    }
    assert numbers == set(sc.RULE_RANGES)
    for key, (least, most) in sc.RULE_RANGES.items():
        value = getattr(rules, key)
        for v in value if isinstance(value, tuple) else (value,):
            assert least <= v <= most and math.isfinite(most), key
            assert most < 2**31  # far from any integer's end


@pytest.mark.parametrize("value", ["1e308", "inf", "nan", "99999999999999999999999"])
@pytest.mark.parametrize(("key", "most"), [("circuity", "10"), ("preference_rank", "1,000,000")])
def test_a_workbook_setting_names_the_sheet_key_and_range(
    tmp_path: Path, key: str, most: str, value: str
) -> None:
    book = workbook_of(write_tiny(tmp_path / "tiny"), tmp_path / "方案.xlsx")
    wb = openpyxl.load_workbook(book)
    sheet = wb.worksheets[0]
    sheet.append([key, value])
    wb.save(book)
    scenario = planner.read_scenario(book)
    found = [i for i in scenario.report.errors if i.column == key]
    assert len(found) == 1, [i.text.render("en") for i in scenario.report.errors]
    assert found[0].file == sheet.title
    for lang in ("en", "zh-CN"):
        assert most in found[0].text.render(lang)


def test_sane_settings_still_read(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "tiny")
    _with_setting(folder, "rules", "circuity = 1.5\nspeed_kmh = 60\ntransport_tiers_km = [0, 800]")
    _with_setting(folder, "rules", "transport_tiers_cny = [500, 900]")
    _with_setting(folder, "weights", "preference_rank = 1000000")
    scenario = planner.read_scenario(folder)
    assert scenario.report.errors == [], [i.text.render("en") for i in scenario.report.errors]
    assert scenario.data.rules.circuity == 1.5
