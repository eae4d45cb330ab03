"""Loading a valid scenario gives typed, immutable data with codes kept as strings."""

from __future__ import annotations

import codecs
import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from geodata import crs as crsmod
from geodata.scenario import load_scenario, read_scenario_data
from planner.issues import ScenarioError
from planner.scenario import DEGREES, ScenarioData
from tests.support.scenario_files import tiny_counties


def test_tiny_scenario_loads(tiny_dir: Path) -> None:
    result = load_scenario(tiny_dir)
    assert result.report.ok, result.report.issues
    s = result.data
    assert isinstance(s, ScenarioData)
    assert s.synthetic and s.name == "tiny" and s.year == 2006
    assert s.posts is not None and s.applicants is not None and s.quotas is not None
    assert list(s.posts.post_id) == ["PA1", "PA2", "PA3", "PA4", "PB1"]
    assert s.posts.seats.tolist() == [2, 1, 2, 1, 2]
    assert s.posts.relay.tolist() == [True, False, False, False, False]
    assert s.posts.required_majors[1] == frozenset({"medicine"})
    assert s.posts.min_degree.tolist() == [-1, DEGREES.index("bachelor"), -1, -1, -1]
    assert s.applicants.preferences.shape == (4, 5)
    assert s.applicants.preferences[0, 1] == "520000"
    assert s.quotas.special_quota.shape == (2, 7)
    assert s.stops is not None and s.stops.open.tolist() == [-1, 540]
    assert s.stations is not None and s.stations.shift_end.tolist() == [17 * 60]


def test_codes_stay_strings_and_extra_columns_pass_through(tiny_dir: Path) -> None:
    s = read_scenario_data(tiny_dir)
    assert s.quotas is not None and s.applicants is not None
    assert s.quotas.county_code.dtype.kind == "U"
    assert all(len(c) == 6 for c in s.quotas.county_code)
    assert s.quotas.extra.names == ("note",)
    assert s.quotas.extra.get("note") is not None
    assert s.quotas.extra.get("note")[0] == "first county"  # type: ignore[index]
    assert s.applicants.extra.get("university")[0] == "北京大学"  # type: ignore[index]


def test_scenario_is_immutable(tiny_dir: Path) -> None:
    s = read_scenario_data(tiny_dir)
    assert s.posts is not None
    with pytest.raises(ValueError):
        s.posts.seats[0] = 99
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.posts = None  # type: ignore[misc]
    assert not s.applicants.preferences.flags.writeable  # type: ignore[union-attr]


def test_utf8_bom_is_accepted(tiny_dir: Path) -> None:
    path = tiny_dir / "posts.csv"
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    result = load_scenario(tiny_dir)
    assert result.report.ok and not result.report.warnings


def test_zip_of_the_folder_loads(tiny_dir: Path, tmp_path: Path) -> None:
    archive = shutil.make_archive(str(tmp_path / "tiny"), "zip", tiny_dir.parent, "tiny")
    result = load_scenario(archive)
    assert result.report.ok, result.report.issues
    assert result.valid and result.data.posts is not None


def test_gcj02_tables_are_converted_to_wgs84(tiny_dir: Path) -> None:
    a, _ = tiny_counties()
    g_lon, g_lat = crsmod.wgs84_to_gcj02(np.array([a.lon]), np.array([a.lat]))
    text = (tiny_dir / "posts.csv").read_text(encoding="utf-8")
    text = text.replace(f"{a.lon},{a.lat}", f"{g_lon[0]:.7f},{g_lat[0]:.7f}")
    (tiny_dir / "posts.csv").write_text(text, encoding="utf-8")
    toml = (tiny_dir / "scenario.toml").read_text(encoding="utf-8")
    (tiny_dir / "scenario.toml").write_text(toml.replace('"wgs84"', '"gcj02"'), encoding="utf-8")
    s = read_scenario_data(tiny_dir)
    assert s.posts is not None
    assert abs(s.posts.lon[0] - a.lon) < 1e-6 and abs(s.posts.lat[0] - a.lat) < 1e-6


def test_read_scenario_raises_with_the_report(tiny_dir: Path) -> None:
    (tiny_dir / "targets.csv").write_text("", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_scenario_data(tiny_dir)
    assert info.value.report.errors[0].file == "targets.csv"


def test_unknown_settings_and_bad_toml(tiny_dir: Path) -> None:
    toml = tiny_dir / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "bogus_share = 2\n", encoding="utf-8")
    result = load_scenario(tiny_dir)
    assert any(i.rule == "unknown-setting" and i.line for i in result.report.warnings)
    toml.write_text("name = \n", encoding="utf-8")
    result = load_scenario(tiny_dir)
    assert not result.valid
    assert result.report.errors[0].rule == "toml-syntax" and result.report.errors[0].line == 1


def test_missing_path_and_builtin_name() -> None:
    assert load_scenario("/nonexistent/x").report.errors[0].rule == "missing-file"
    assert load_scenario("builtin:nope").report.errors[0].rule == "unknown-builtin"


@pytest.mark.parametrize(
    "share, ok", [(0.85, True), (0.8125, True), (0.123456, False), (1.5, False)]
)
def test_the_bachelor_share_has_at_most_four_decimals(
    tiny_dir: Path, share: float, ok: bool
) -> None:
    """The solver and both checkers read the share as the exact fraction written; more than
    four decimals would make its denominator (and A4's integer rows) large, so it is refused."""
    toml = tiny_dir / "scenario.toml"
    text = toml.read_text(encoding="utf-8").replace(
        "undergraduate_min_share = 0.85", f"undergraduate_min_share = {share}"
    )
    toml.write_text(text, encoding="utf-8")
    result = load_scenario(tiny_dir)
    assert result.valid == ok
    if not ok:
        (issue,) = result.report.errors
        line = text.splitlines().index(f"undergraduate_min_share = {share}") + 1
        assert (issue.file, issue.column, issue.line) == (
            "scenario.toml",
            "undergraduate_min_share",
            line,
        )


def test_a_weight_beyond_a_million_is_refused(tiny_dir: Path) -> None:
    """Costs must stay far inside the solvers' 64-bit integers."""
    toml = tiny_dir / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[weights]\nrelay_empty = 10000000\n")
    (issue,) = load_scenario(tiny_dir).report.errors
    assert (issue.column, issue.rule) == ("relay_empty", "bad-value")
    assert "1,000,000" in issue.message
