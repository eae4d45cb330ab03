"""Scenario sweeps (planner.sweep, `planner sweep`): the keys, the variants, each plan
against a scenario read with the changed settings, sweep.csv and the offline sweep.html."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import planner
from api.cli import app
from geodata.builtin import write_builtin
from planner.sweep import COLUMNS, Vary, VaryError, apply, variants
from tests.support.browser import browser, visit
from tests.support.maps import check_clean

runner = CliRunner()


@pytest.fixture(scope="module")
def prefecture() -> planner.Scenario:
    return planner.read_scenario("builtin:tier-prefecture")


def test_keys_and_values_are_checked_with_what_is_expected() -> None:
    assert Vary.parse("rules.undergraduate_min_share=0.8,0.85") == Vary(
        "rules.undergraduate_min_share", (0.8, 0.85)
    )
    assert Vary.parse("weights.preference_rank=5,10").values == (5, 10)
    assert Vary.parse("rules.allow_outside_preferences=true,no").values == (True, False)
    assert Vary.parse("quota_scale.540000=1.1").values == (1.1,)
    bad = {
        "rules.nonsense=1": "unknown key; expected quota_scale.PROVINCE or one of rules.",
        "weights.preference_rank=5,x": "found 'x'; expected a value like 10",
        "rules.undergraduate_min_share=1.2": "between 0 and 1",
        "rules.undergraduate_min_share=0.123456": "at most four decimals",
        "quota_scale.54=1.1": "six-digit province code",
        "quota_scale.540000=0": "expected a factor > 0 and at most 10",
        "quota_scale.540000=1e308": "expected a factor > 0 and at most 10",
        "weights.preference_rank=99999999999999999999": "expected a weight of at most 1,000,000",
        "weights.preference_rank=-1": "expected a number >= 0",
        "weights.preference_rank": "expected KEY=V1,V2",
        "weights.preference_rank=5,5": "given twice",
        "rules.transport_tiers_km=1": "unknown key",
    }
    for text, message in bad.items():
        with pytest.raises(ValueError, match=re.escape(message)):
            Vary.parse(text)
    with pytest.raises(ValueError, match="varied twice"):
        variants([Vary("weights.preference_rank", (1,)), Vary("weights.preference_rank", (2,))])


def test_variants_are_the_cross_product_first_axis_slowest() -> None:
    axes = [
        Vary("rules.undergraduate_min_share", (0.8, 0.9)),
        Vary("weights.major_mismatch", (1, 2, 3)),
    ]
    got = variants(axes)
    assert len(got) == 6
    assert got[0] == {"rules.undergraduate_min_share": 0.8, "weights.major_mismatch": 1}
    assert got[3] == {"rules.undergraduate_min_share": 0.9, "weights.major_mismatch": 1}


def test_a_quota_scale_scales_the_province_half_up_and_leaves_the_others(
    prefecture: planner.Scenario,
) -> None:
    base = prefecture.data
    assert base.quotas is not None and base.targets is not None
    province = str(base.quotas.county_code[0])[:2] + "0000"
    scaled = apply(prefecture, {f"quota_scale.{province}": 1.25}).data
    assert scaled.quotas is not None and scaled.targets is not None
    for old, new in (
        (base.quotas.general_quota, scaled.quotas.general_quota),
        (base.quotas.special_quota, scaled.quotas.special_quota),
    ):
        expected = [int(q * 1.25 + 0.5) for q in np.ravel(old).tolist()]
        assert np.ravel(new).tolist() == expected
    for code, role, old, new in zip(
        base.targets.province_code,
        base.targets.role,
        base.targets.target,
        scaled.targets.target,
        strict=True,
    ):
        want = int(old * 1.25 + 0.5) if (code, role) == (province, "service") else int(old)
        assert int(new) == want
    with pytest.raises(ValueError, match="has no service county in 540000"):
        apply(prefecture, {"quota_scale.540000": 1.1})


def test_each_plan_of_a_sweep_is_the_plan_of_the_scenario_read_with_that_setting(
    prefecture: planner.Scenario, tmp_path: Path
) -> None:
    result = planner.sweep.sweep(prefecture, [Vary("weights.preference_rank", (0, 40))])
    table = result.table
    assert list(table.columns) == list(COLUMNS) and table["variant"].tolist() == [0, 1, 2]
    assert table["optimal"].all() and (table["gap"] <= 1e-4).all()
    # the same settings written into scenario.toml and read as a scenario
    folder = write_builtin("tier-prefecture", tmp_path / "prefecture")
    toml = (folder / "scenario.toml").read_text(encoding="utf-8")
    for k, weight in ((1, 0), (2, 40)):
        assert toml.count("preference_rank = 10\n") == 1
        (folder / "scenario.toml").write_text(
            toml.replace("preference_rank = 10\n", f"preference_rank = {weight}\n"),
            encoding="utf-8",
        )
        plan = planner.allocate(planner.read_scenario(folder))
        row = table.iloc[k]
        assert row["objective"] == pytest.approx(plan.objective, rel=1e-4)
        assert row["placed"] == len(plan.assignments)
        assert row["term_preference"] == pytest.approx(plan.terms.preference, rel=1e-4)
    assert table.iloc[1]["term_preference"] == 0  # a weight of 0 makes the term 0
    base = planner.allocate(prefecture)
    assert table.iloc[0]["objective"] == pytest.approx(base.objective, rel=1e-4)
    by_county = result.changes_by_county()
    assert (by_county["change"] == by_county["variant_placed"] - by_county["base"]).all()
    assert (
        by_county["variant_placed"] - by_county["base"] == by_county["arrived"] - by_county["left"]
    ).all()


@pytest.mark.needs("chromium")
def test_planner_sweep_writes_the_table_and_a_page_that_opens_offline(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = runner.invoke(
        app,
        [
            "sweep",
            "builtin:tier-prefecture",
            "--vary",
            "weights.preference_rank=5,20",
            "--vary",
            "quota_scale.510000=1.2",
            "--scheduler",
            "processes:2",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv", encoding="utf-8-sig")
    assert len(table) == 3 and table["changes"].iloc[0] == "(base)"
    assert "quota_scale.510000=1.2" in table["changes"].iloc[1]
    # quotas of the province up by a fifth: more quota to fill than in the base
    assert (table["quota_unfilled"].iloc[1:] >= table["quota_unfilled"].iloc[0]).all()
    counties = pd.read_csv(
        out / "sweep_counties.csv", encoding="utf-8-sig", dtype={"county_code": str}
    )
    changed = int((counties.query("variant == 1")["change"] != 0).sum())
    with browser() as b:

        def choose(page: object) -> None:
            page.select_option("#sweep-measure", "placed")  # type: ignore[attr-defined]

        v = visit(b, out / "sweep.html", action=choose, screenshot=tmp_path / "sweep.png")
    check_clean(v)
    assert v.counts["variants"] == 2 and v.counts["bars"] == 3 and v.counts["rows"] == 3
    assert v.counts["counties"] == counties["county_code"].nunique()
    assert v.counts["changed"] == changed


def test_a_bad_vary_exits_2_with_the_message(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["sweep", "builtin:tier-county", "--vary", "rules.nope=1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "unknown key" in result.output


def test_a_name_holding_src_or_href_does_not_stop_the_sweep(tmp_path: Path) -> None:
    """The offline check reads the page's real tags: a scenario or county named with ``src=``
    or ``href=`` is text, escaped, and the page is written (issue 22, item 12a)."""
    from tests.support.scenario_files import write_tiny

    folder = write_tiny(tmp_path / "tiny")
    toml = folder / "scenario.toml"
    named = '<img src=x onerror=alert(1)> 县 href=http://x.example/ src="y"'
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('name = "tiny"', f"name = {named!r}"),
        encoding="utf-8",
    )
    out = tmp_path / "sweep"
    result = runner.invoke(
        app, ["sweep", str(folder), "--vary", "weights.preference_rank=5", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    page = (out / "sweep.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # shown as text
    from maps.offline import external_links

    assert external_links(page) == []


def test_the_offline_check_counts_real_attributes_only() -> None:
    from maps.offline import external_links, inline

    text = '<p>src=x href="http://a.example"</p><title>镇 src=y</title><a href="#top">t</a>'
    assert external_links(text) == []
    assert inline(text) == text
    script = '<script>var s = "<img src=http://b.example>";</script><img src="data:image/png,">'
    assert external_links(script) == []
    bad = '<p>x</p><img alt="src=a" src="http://c.example/i.png"><link href=//d.example/s.css>'
    assert external_links(bad) == [
        "<img src='http://c.example/i.png'>",
        "<link href='//d.example/s.css'>",
    ]
    with pytest.raises(ValueError, match=r"c\.example"):
        inline(bad)


@pytest.mark.parametrize(
    ("vary", "most"),
    [("rules.circuity=1.2,1e308", "10"), ("rules.speed_kmh=40,99999", "300")],
)
def test_a_vary_outside_a_rules_range_is_refused(vary: str, most: str) -> None:
    """``--vary`` holds a rule to the range ``scenario.toml`` holds it to (issue 22 item 5)."""
    with pytest.raises(VaryError) as caught:
        Vary.parse(vary)
    assert most in str(caught.value) and vary.split("=")[0] in str(caught.value)
