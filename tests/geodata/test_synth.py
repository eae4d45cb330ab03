"""Tests of the synthetic scenarios (geodata.synth), written from the spec.

The checks read the written CSV files back as a user would (everything as text) and recompute
the rules on their own: totals of the seed documents, points inside the real county polygons,
township codes, the declaration rules D1/D2/D7, preferences, codes as strings, the 85 % rule's
raw material, determinism and the SYNTHETIC label.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata import china
from geodata.scenario import load_scenario
from geodata.synth import (
    DEFAULT_RULES,
    DEFAULT_WEIGHTS,
    MAINLAND_PROVINCES,
    WESTERN_PROVINCES,
    SyntheticScenario,
    generate_huaihua_screening,
    generate_tier,
    generate_western_2006,
    tiers,
    write_scenario,
)
from geodata.synth.common import apportion, dumps_toml

SPECIAL = (
    "youth_center",
    "remote_education",
    "rural_culture",
    "procuratorate",
    "legal_aid",
    "court",
    "development_finance",
)
GENERAL = ("education", "health", "agriculture", "mobile_service", "other")
CATEGORIES = (*GENERAL[:3], *SPECIAL, "mobile_service", "other")
DEGREES = ("junior_college", "bachelor", "master", "doctor")
MAJORS = (
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
)
PREFS = tuple(f"pref_{i}" for i in range(1, 6))
SMALL = ("western-2006", "huaihua-screening", "tier-county", "tier-prefecture", "tier-province")


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def counties() -> pd.DataFrame:
    return china.load_counties()


@pytest.fixture(scope="module")
def generated() -> dict[str, SyntheticScenario]:
    return {
        "western-2006": generate_western_2006(),
        "huaihua-screening": generate_huaihua_screening(),
        "tier-county": generate_tier("county"),
        "tier-prefecture": generate_tier("prefecture"),
        "tier-province": generate_tier("province"),
    }


@pytest.fixture(scope="module")
def folders(
    generated: dict[str, SyntheticScenario], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("synth")
    return {name: write_scenario(s, base / name) for name, s in generated.items()}


def read(folder: Path, key: str) -> pd.DataFrame:
    """A written table as text, the way a user's tool reads it."""
    return pd.read_csv(folder / f"{key}.csv", dtype=str, keep_default_na=False)


def quota_total(q: pd.DataFrame) -> np.ndarray:
    return q["general_quota"].astype(int).to_numpy() + sum(
        q[f"{a}_quota"].astype(int).to_numpy() for a in SPECIAL
    )


# --- checks shared by every scenario ---------------------------------------------------------


def check_points_inside(frame: pd.DataFrame, counties: pd.DataFrame) -> None:
    geoms = dict(zip(counties["code"], counties.geometry, strict=True))
    lon = frame["lon"].astype(float).to_numpy()
    lat = frame["lat"].astype(float).to_numpy()
    assert all(len(v.split(".")[1]) <= 6 for v in frame["lon"])
    for code, idx in frame.groupby("county_code").indices.items():
        inside = shapely.contains_xy(geoms[code], lon[idx], lat[idx])
        assert inside.all(), f"{(~inside).sum()} points outside county {code}"


def check_declaration_rules(folder: Path) -> None:
    q = read(folder, "quotas")
    p = read(folder, "posts")
    c = read(folder, "continuing")
    held = c["post_id"].value_counts()
    p["open"] = p["seats"].astype(int) - p["post_id"].map(held).fillna(0).astype(int)
    assert (p["open"] >= 0).all(), "D4: more continuing volunteers than seats"
    seats = p.groupby(["county_code", "category"])["open"].sum()
    other = (
        p[p["category"] == "other"]
        .groupby("county_code")["seats"]
        .apply(lambda s: s.astype(int).sum())
    )
    for row, total in zip(q.itertuples(index=False), quota_total(q), strict=True):
        county = row.county_code
        if row.barred == "1":
            continue
        general = sum(int(seats.get((county, cat), 0)) for cat in GENERAL)
        need = math.ceil(1.2 * int(row.general_quota) - 1e-9)
        assert general >= need, f"D1 general {county}: {general} < {need}"
        for a in SPECIAL:
            quota = int(getattr(row, f"{a}_quota"))
            assert int(seats.get((county, a), 0)) >= quota, f"D1 {a} {county}"
        assert int(other.get(county, 0)) <= math.floor(0.1 * total + 1e-9), f"D2 {county}"


def check_pairing_and_preferences(folder: Path, pool: tuple[str, ...]) -> None:
    q = read(folder, "quotas")
    pairing = read(folder, "pairing")
    applicants = read(folder, "applicants")
    service = set(q["county_code"].str[:2] + "0000")
    per_service = pairing.groupby("service_province").size()
    assert set(per_service.index) == service
    assert per_service.between(1, 3).all(), "D7: 1 to 3 recruiting provinces each"
    assert set(pairing["recruit_province"]) <= set(pool)
    assert not pairing.duplicated(["service_province", "recruit_province"]).any()
    assert set(applicants["recruit_province"]) <= set(pairing["recruit_province"])
    paired: dict[str, set[str]] = {}
    for s, r in zip(pairing["service_province"], pairing["recruit_province"], strict=True):
        paired.setdefault(r, set()).add(s)
    open_counties = set(q.loc[q["barred"] == "0", "county_code"])
    prefs = applicants[list(PREFS)].to_numpy(str)
    filled = prefs != ""
    assert filled[:, 0].all(), "pref_1 is required"
    assert (filled[:, :-1] | ~filled[:, 1:]).all(), "no gap before a later preference"
    for r, row in zip(applicants["recruit_province"], prefs, strict=True):
        chosen = [v for v in row if v]
        assert len(set(chosen)) == len(chosen), f"repeated preference {row}"
        for v in chosen:
            assert re.fullmatch(r"\d{6}", v)
            if v.endswith("0000"):
                assert v in paired[r], f"{v} is not paired with {r}"
            else:
                assert v in open_counties, f"{v} is not an open service county"
                assert v[:2] + "0000" in paired[r]


def check_codes(folder: Path) -> None:
    code_columns = {
        "quotas": {"county_code": 6},
        "posts": {"county_code": 6, "township_code": 9},
        "applicants": {"recruit_province": 6, "home_county_code": 6},
        "pairing": {"service_province": 6, "recruit_province": 6},
        "targets": {"province_code": 6},
        "stations": {"county_code": 6},
        "stops": {"county_code": 6, "township_code": 9},
    }
    for key, columns in code_columns.items():
        path = folder / f"{key}.csv"
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        assert ".0," not in text and not re.search(r"\.0$", text, re.M)
        frame = read(folder, key)
        for col, width in columns.items():
            assert frame[col].str.fullmatch(rf"\d{{{width}}}").all(), f"{key}.{col}"
    posts = read(folder, "posts")
    assert (posts["township_code"].str[:6] == posts["county_code"]).all()
    assert posts["post_id"].str.fullmatch(r"P\d{9,}").all()
    assert (posts["post_id"].str[1:7] == posts["county_code"]).all()
    assert posts["category"].isin(CATEGORIES).all()
    assert posts["relay"].isin(["0", "1"]).all()
    assert posts["min_degree"].isin(["", *DEGREES]).all()
    for majors in posts["required_majors"]:
        assert all(m in MAJORS for m in majors.split(";") if majors)
    names = posts["township_name"]
    assert names.str.fullmatch(r".+第\d+乡镇").all(), "township names must look synthetic"
    a = read(folder, "applicants")
    assert a["applicant_id"].str.fullmatch(r"A\d{6}").all()
    assert a["degree"].isin(DEGREES).all()
    assert a["major_class"].isin(MAJORS).all()
    assert a["term_years"].isin(["1", "2"]).all()
    assert a["health_ok"].isin(["0", "1"]).all()
    assert (a["home_lon"] == "").all() and (a["home_lat"] == "").all()
    assert (a["home_county_code"].str[:2] + "0000" == a["recruit_province"]).all()
    assert "synthetic_name" not in a.columns


# --- western-2006 ----------------------------------------------------------------------------


def test_western_totals(folders: dict[str, Path]) -> None:
    folder = folders["western-2006"]
    q = read(folder, "quotas")
    posts = read(folder, "posts")
    cont = read(folder, "continuing")
    applicants = read(folder, "applicants")
    quota = quota_total(q)
    assert quota.sum() == 6500
    assert set(q["county_code"].str[:2] + "0000") == set(WESTERN_PROVINCES)
    assert 200 <= len(q) <= 500
    per_province = q.groupby(q["county_code"].str[:2]).size()
    assert per_province.max() <= 40 and per_province["64"] < per_province["51"]
    special = sum(q[f"{a}_quota"].astype(int).sum() for a in SPECIAL)
    assert 0.10 <= special / 6500 <= 0.15
    for a in SPECIAL:  # each special action in only some counties
        assert 0 < (q[f"{a}_quota"].astype(int) > 0).sum() < len(q)
    assert 3 <= (q["barred"] == "1").sum() <= 5
    assert 1 <= (q["served_last_year"] == "0").sum() <= 10
    assert q["county_name"].str.len().gt(0).all()
    seats = posts["seats"].astype(int)
    assert 0.05 <= len(cont) / seats.sum() <= 0.08
    share = seats.groupby(posts["category"]).sum() / seats.sum()
    assert share["education"] > 0.45 and share["education"] > share["health"] > 0
    assert share["health"] > share["other"] and share["agriculture"] > share["other"]
    assert 0 < (posts["category"] == "mobile_service").sum() < len(q)
    relay = posts["relay"] == "1"
    assert 0.10 <= relay.mean() <= 0.20
    assert (posts.loc[relay, "category"] == "education").mean() > 0.5
    d6 = (posts["category"] == "education") & (posts["required_majors"] != "")
    assert 1 <= d6.sum() <= 5, "a handful of deliberate D6 warnings"
    assert len(applicants) == 9750
    assert cont["volunteer_id"].is_unique and cont["post_id"].isin(posts["post_id"]).all()


def test_western_targets_and_pairing(folders: dict[str, Path]) -> None:
    folder = folders["western-2006"]
    pairing = read(folder, "pairing")
    targets = read(folder, "targets")
    applicants = read(folder, "applicants")
    assert set(pairing["recruit_province"]) == set(MAINLAND_PROVINCES)
    assert len(MAINLAND_PROVINCES) == 31
    assert (pairing["seats"] != "").any() and (pairing["seats"] == "").any()
    service = targets[targets["role"] == "service"]
    recruit = targets[targets["role"] == "recruit"]
    assert set(service["province_code"]) == set(WESTERN_PROVINCES)
    assert service["target"].astype(int).sum() == 6500
    assert abs(recruit["target"].astype(int).sum() - 6500) <= 650
    # applicants in proportion to the recruitment targets
    counts = applicants["recruit_province"].value_counts()
    expected = recruit.set_index("province_code")["target"].astype(int) * 1.5
    ratio = counts.reindex(expected.index).fillna(0) / expected
    assert ratio.between(0.8, 1.2).all()


def test_bachelor_share(folders: dict[str, Path]) -> None:
    a = read(folders["western-2006"], "applicants")
    bachelor_plus = a["degree"].isin(["bachelor", "master", "doctor"])
    assert 0.85 <= bachelor_plus.mean() <= 0.90
    share = a["degree"].value_counts(normalize=True)
    assert 0.75 <= share["bachelor"] <= 0.85
    assert 0.03 <= share["master"] <= 0.08 and 0.003 <= share["doctor"] <= 0.03
    per = bachelor_plus.groupby(a["recruit_province"]).agg(["mean", "size"])
    short = per[(per["mean"] < 0.80) & (per["size"] >= 100)]
    assert 3 <= len(short) <= 5, per.sort_values("mean").head(8)
    assert (per["mean"] < 0.85).sum() < len(per) / 2
    majors = a["major_class"].value_counts(normalize=True)
    assert set(majors.index) == set(MAJORS) and majors.max() < 0.35
    assert a["term_years"].isin(["1", "2"]).all() and (a["term_years"] == "2").any()
    assert 0.9 < (a["health_ok"] == "1").mean() < 1.0


# --- every small scenario --------------------------------------------------------------------


@pytest.mark.parametrize("name", SMALL)
def test_points_inside_real_polygons(
    name: str, folders: dict[str, Path], counties: pd.DataFrame
) -> None:
    folder = folders[name]
    for key in ("posts", "stations", "stops"):
        if (folder / f"{key}.csv").exists():
            check_points_inside(read(folder, key), counties)


@pytest.mark.parametrize("name", SMALL)
def test_declaration_rules_hold(name: str, folders: dict[str, Path]) -> None:
    check_declaration_rules(folders[name])


@pytest.mark.parametrize("name", SMALL)
def test_pairing_and_preferences(name: str, folders: dict[str, Path]) -> None:
    check_pairing_and_preferences(folders[name], MAINLAND_PROVINCES)


@pytest.mark.parametrize("name", SMALL)
def test_codes_are_strings(name: str, folders: dict[str, Path]) -> None:
    check_codes(folders[name])


@pytest.mark.parametrize("name", SMALL)
def test_label_and_toml(
    name: str, folders: dict[str, Path], generated: dict[str, SyntheticScenario]
) -> None:
    folder = folders[name]
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert readme.startswith("SYNTHETIC DATA — generated by westplan ")
    assert f"with seed {generated[name].seed}; geometry real" in readme
    doc = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
    toml = generated[name].toml
    assert doc == {k: dict(v) if isinstance(v, Mapping) else v for k, v in toml.items()}
    assert doc["name"] == name and doc["crs"] == "wgs84" and doc["synthetic"] is True
    assert isinstance(doc["year"], int) and isinstance(doc["seed"], int)
    assert "SYNTHETIC" in doc["description"] and "WGS-84" in doc["description"]
    assert doc["files"]["counties"] == "builtin:china"
    for key, file in doc["files"].items():
        if key != "counties":
            assert (folder / file).is_file()
    assert doc["rules"] == dict(DEFAULT_RULES)
    assert doc["weights"] == dict(DEFAULT_WEIGHTS)
    assert doc["weights"]["relay_empty"] == 1000 and doc["weights"]["replan_move"] == 50


def test_loader_accepts_the_scenarios(folders: dict[str, Path]) -> None:
    for name, folder in folders.items():
        result = load_scenario(folder)
        errors = [str(i) for i in result.report.errors]
        assert not errors, f"{name}: {errors[:5]}"
        assert result.valid and result.data.synthetic


# --- huaihua-screening -----------------------------------------------------------------------


def test_huaihua(folders: dict[str, Path], counties: pd.DataFrame) -> None:
    folder = folders["huaihua-screening"]
    stations = read(folder, "stations")
    stops = read(folder, "stops")
    real = set(counties.loc[counties["prefecture_code"] == "431200", "code"])
    assert set(stations["county_code"]) == real and stations["county_code"].is_unique
    assert (stations["station_id"] == "S" + stations["county_code"]).all()
    vehicles = stations["vehicles"].astype(int)
    assert (vehicles == 0).sum() == 1 and vehicles[vehicles > 0].between(1, 3).all()
    per_day = stations["clients_per_vehicle_day"].astype(int)
    assert per_day.between(40, 60).all()
    assert (stations["shift_start"] == "08:00").all() and (stations["shift_end"] == "17:00").all()
    assert (stations["crew_size"] == "2").all() and (stations["days"] == "20").all()
    assert len(stops) == 290 and stops["stop_id"].is_unique
    assert set(stops["county_code"]) == real
    assert (stops["township_code"].str[:6] == stops["county_code"]).all()
    assert (stops["stop_id"] == "T" + stops["township_code"]).all()
    assert (stops["minutes_per_client"] == "6").all() and (stops["setup_minutes"] == "20").all()
    windows = stops[stops["open"] != ""]
    assert 0 < len(windows) < len(stops) and (windows["close"] > windows["open"]).all()
    assert ((stops["open"] == "") == (stops["close"] == "")).all()
    assert stops["priority"].isin(["1", "2", "3"]).all() and stops["priority"].nunique() == 3
    # stops in proportion to area
    n_stops = stops.groupby("county_code").size()
    area = counties.set_index("code").loc[n_stops.index, "area_km2"]
    assert np.corrcoef(n_stops, area)[0, 1] > 0.9
    # demand about 1.0-1.3 x capacity: 80 % reachable in most counties, not in all
    demand = stops["demand"].astype(int)
    capacity = vehicles * per_day * 20
    assert (demand >= 1).all() and demand.sum() < 995_605 * 0.1
    assert 1.0 <= demand.sum() / capacity.sum() <= 1.3
    cap = pd.Series(capacity.to_numpy(), index=stations["county_code"])
    ok = cap / demand.groupby(stops["county_code"]).sum().reindex(cap.index) >= 0.8
    assert len(ok) / 2 < ok.sum() < len(ok)
    # one mobile_service post per station with vehicles: seats = vehicles x crew size
    posts = read(folder, "posts")
    mobile = posts[posts["category"] == "mobile_service"].set_index("county_code")["seats"]
    expected = stations.set_index("county_code")["vehicles"].astype(int) * 2
    assert mobile.astype(int).to_dict() == expected[expected > 0].to_dict()


# --- tiers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "n_counties", "n_posts", "n_applicants", "n_stops", "days"),
    [
        ("county", 1, 30, 100, 25, 10),
        ("prefecture", 13, 400, 1500, 290, 20),
        ("province", 100, 3000, 10000, 1500, 20),
    ],
)
def test_tier_sizes(
    tier: str,
    n_counties: int,
    n_posts: int,
    n_applicants: int,
    n_stops: int,
    days: int,
    folders: dict[str, Path],
    counties: pd.DataFrame,
) -> None:
    folder = folders[f"tier-{tier}"]
    q = read(folder, "quotas")
    assert len(q) == n_counties
    assert len(read(folder, "posts")) == n_posts
    assert len(read(folder, "applicants")) == n_applicants
    stations = read(folder, "stations")
    stops = read(folder, "stops")
    assert len(stations) == n_counties and len(stops) == n_stops
    assert (stations["days"].astype(int) == days).all()
    assert set(stops["county_code"]) == set(q["county_code"])
    provinces = set(q["county_code"].str[:2] + "0000")
    assert len(provinces) == 1 and provinces <= set(WESTERN_PROVINCES)
    assert q["county_code"].isin(counties["code"]).all()
    if tier == "county":
        assert stations["vehicles"].tolist() == ["2"]
    if tier == "prefecture":
        prefectures = counties.set_index("code").loc[q["county_code"], "prefecture_code"]
        assert prefectures.nunique() == 1
    if tier == "province":
        assert provinces == {"510000"}


def test_unknown_tier() -> None:
    with pytest.raises(ValueError, match="unknown tier"):
        generate_tier("village")


@pytest.mark.slow
def test_national_tier(counties: pd.DataFrame, tmp_path: Path) -> None:
    started = time.perf_counter()
    scenario = generate_tier("national", seed=1)
    seconds = time.perf_counter() - started
    assert seconds < 30, f"national tier took {seconds:.1f} s; the target is < 10 s"
    folder = write_scenario(scenario, tmp_path / "national")
    q = read(folder, "quotas")
    western = counties[counties["province_code"].isin(WESTERN_PROVINCES)]
    assert len(q) == min(1100, len(western))
    assert set(q["county_code"]) <= set(western["code"])
    assert quota_total(q).sum() == 30_000
    assert len(read(folder, "applicants")) == 60_000
    assert set(read(folder, "applicants")["recruit_province"]) == set(MAINLAND_PROVINCES)
    check_declaration_rules(folder)
    check_pairing_and_preferences(folder, MAINLAND_PROVINCES)
    check_codes(folder)
    check_points_inside(read(folder, "posts"), counties)
    # the routing part: a station in every county, a stop at every township, 20 days
    stations, stops = read(folder, "stations"), read(folder, "stops")
    assert sorted(stations["county_code"]) == sorted(q["county_code"])
    assert len(stops) >= 15_000 and stops["stop_id"].is_unique
    assert set(stops["county_code"]) == set(q["county_code"])
    assert (stations["days"].astype(int) == 20).all()
    assert (stops["township_code"].str[:6] == stops["county_code"]).all()
    check_points_inside(stops, counties)


@pytest.mark.slow
def test_national_routing_leaves_the_allocation_tables_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The national tier's allocation tables are those of the tier without its routing part,
    byte for byte (its allocation results stand)."""
    with_routing = write_scenario(generate_tier("national"), tmp_path / "with")
    national = tiers.TIERS["national"]
    monkeypatch.setattr(
        tiers,
        "TIERS",
        {**tiers.TIERS, "national": dataclasses.replace(national, routing=None)},
    )
    without = write_scenario(generate_tier("national"), tmp_path / "without")
    assert (with_routing / "stops.csv").is_file() and not (without / "stops.csv").exists()
    for table in ("quotas", "posts", "continuing", "applicants", "pairing", "targets"):
        name = f"{table}.csv"
        assert (with_routing / name).read_bytes() == (without / name).read_bytes(), name


# --- determinism -----------------------------------------------------------------------------


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes(folders: dict[str, Path], tmp_path: Path) -> None:
    again = write_scenario(generate_western_2006(), tmp_path / "again")
    assert _bytes(again) == _bytes(folders["western-2006"])
    again = write_scenario(generate_huaihua_screening(), tmp_path / "again-huaihua")
    assert _bytes(again) == _bytes(folders["huaihua-screening"])


def test_other_seed_other_data(folders: dict[str, Path], tmp_path: Path) -> None:
    other = write_scenario(generate_tier("prefecture", seed=7), tmp_path / "other")
    first = _bytes(folders["tier-prefecture"])
    second = _bytes(other)
    for name in ("posts.csv", "applicants.csv", "stops.csv", "quotas.csv"):
        assert first[name] != second[name]
    assert "seed 7;" in second["README.txt"].decode("utf-8")


# --- helpers ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.0, 100.0), min_size=1, max_size=30),
    st.integers(0, 500),
    st.integers(0, 3),
)
def test_apportion_sums_and_bounds(weights: list[float], total: int, low: int) -> None:
    n = len(weights)
    high = low + 40
    if not n * low <= total <= n * high:
        with pytest.raises(ValueError):
            apportion(total, weights, low, high)
        return
    out = apportion(total, weights, low, high)
    assert out.sum() == total and (out >= low).all() and (out <= high).all()
    assert np.array_equal(out, apportion(total, weights, low, high))


def test_toml_round_trip() -> None:
    doc = {
        "name": 'a "quoted" 名称\nline',
        "year": 2006,
        "share": 0.1,
        "flag": False,
        "files": {"counties": "builtin:china"},
        "rules": {"x": 1.0, "y": True},
    }
    assert tomllib.loads(dumps_toml(doc)) == doc
