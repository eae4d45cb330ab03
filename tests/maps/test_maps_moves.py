"""The map of the moves between two versions of a plan (maps/moves.py): what it draws,
counted here from the two plans' assignments and seats, and a page that opens offline
under its own Content-Security-Policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import planner
from maps.offline import external_links
from planner.pins import Pins
from tests.support.scenario_files import write_spread_tiny


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[planner.Plan, planner.Plan]:
    folder = write_spread_tiny(tmp_path_factory.mktemp("moves") / "tiny")
    scenario = planner.read_scenario(folder)
    params = planner.AllocationParams(time_limit=30)
    base = planner.allocate(scenario, params)
    first = str(base.assignments["post_id"].iloc[0])
    pinned = planner.allocate(scenario, params, pins=Pins(close_posts=[first]), baseline=base)
    return base, pinned


def test_the_layers_are_the_moves_counted_from_the_tables(
    versions: tuple[planner.Plan, planner.Plan],
) -> None:
    from maps.moves import moves_layers

    before, after = versions
    seats = {
        str(r.post_id): (float(r.lon), float(r.lat)) for r in before.seats.itertuples(index=False)
    }
    old = dict(zip(before.assignments["applicant_id"], before.assignments["post_id"], strict=True))
    new = dict(zip(after.assignments["applicant_id"], after.assignments["post_id"], strict=True))
    moved = [a for a in old.keys() & new.keys() if old[a] != new[a]]
    assert moved, "closing a post must move someone"
    pairs = {(seats[old[a]], seats[new[a]]) for a in moved if seats[old[a]] != seats[new[a]]}
    same = {seats[old[a]] for a in moved if seats[old[a]] == seats[new[a]]}
    layers = moves_layers(before, after)
    assert {(a, b) for a, b, _, _ in layers["lines"]} == pairs
    assert sum(n for *_, n in layers["lines"]) == sum(
        1 for a in moved if seats[old[a]] != seats[new[a]]
    )
    assert {(x, y) for c, x, y, _, _ in layers["points"] if c == "moved"} == same
    placed = {seats[new[a]] for a in new.keys() - old.keys()}
    gone = {seats[old[a]] for a in old.keys() - new.keys()}
    assert {(x, y) for c, x, y, _, _ in layers["points"] if c == "placed"} == placed
    assert {(x, y) for c, x, y, _, _ in layers["points"] if c == "unplaced"} == gone


def test_the_page_opens_offline_under_its_policy(
    versions: tuple[planner.Plan, planner.Plan], tmp_path: Path
) -> None:
    from maps.moves import write_moves
    from planner import i18n

    with i18n.speaking("zh-CN"):
        page = write_moves(*versions, tmp_path / "moves.html").read_text(encoding="utf-8")
    assert external_links(page) == []
    assert '<meta http-equiv="Content-Security-Policy"' in page
    assert '<html lang="zh-CN">' in page and "两个方案版本之间的人员变动" in page
    assert any(name in page for name in ("县界", json.dumps("县界")[1:-1]))  # a layer's name
    assert "macro_element" not in page  # every layer of the layer control has a name
