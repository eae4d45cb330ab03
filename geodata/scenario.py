"""Load a scenario folder or .zip into typed, immutable :class:`planner.scenario.Scenario` data.

``load_scenario`` never raises on bad input: it returns a :class:`LoadResult` whose report
lists every problem, and a scenario only when there is no error (never a partial one).
``read_scenario`` is the strict variant that raises :class:`~geodata.issues.ScenarioError`.
"""

from __future__ import annotations

import logging
import re
import tempfile
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from geodata import crs as crsmod
from geodata.archive import ZipLimits, extract_zip, scenario_root
from geodata.issues import Report, ScenarioError
from geodata.layers import Layer, read_layer
from geodata.schema import ALLOCATION_TABLES, PREF_COLUMNS, ROUTING_TABLES, TABLES
from geodata.tables import ParsedTable, read_table
from geodata.validate import Geography, check_scenario
from planner import scenario as sc

log = logging.getLogger(__name__)

TOML = "scenario.toml"
BUILTIN_COUNTIES = "builtin:china"
_TOP_KEYS = {"name", "year", "crs", "synthetic", "description", "seed", "files", "rules", "weights"}
_FILE_KEYS = {"counties", "townships", *TABLES}


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What loading gave: the scenario (``None`` when there are errors) and the full report."""

    scenario: sc.Scenario | None
    report: Report
    source: str


def read_scenario(path: str | Path, zip_limits: ZipLimits | None = None) -> sc.Scenario:
    """Load a scenario or raise :class:`ScenarioError` carrying the report."""
    result = load_scenario(path, zip_limits=zip_limits)
    if result.scenario is None:
        raise ScenarioError(result.report)
    return result.scenario


def load_scenario(path: str | Path, zip_limits: ZipLimits | None = None) -> LoadResult:
    """Load and validate a scenario folder, a .zip of one, or a built-in name.

    Parameters
    ----------
    path
        A folder holding ``scenario.toml``, a ``.zip`` of such a folder, or
        ``builtin:NAME`` (see :func:`geodata.builtin.builtin_names`).
    zip_limits
        Limits for a zip (size, ratio, members).
    """
    report = Report()
    source = str(path)
    if isinstance(path, str) and path.startswith("builtin:"):
        from geodata.builtin import builtin_folder

        try:
            folder = builtin_folder(path.removeprefix("builtin:"))
        except KeyError as exc:
            report.error(source, None, None, "unknown-builtin", str(exc.args[0]))
            return LoadResult(None, report, source)
        return LoadResult(_load_folder(folder, report), report, source)
    p = Path(path)
    if not p.exists():
        report.error(
            p.name,
            None,
            None,
            "missing-file",
            f"{p} does not exist; expected a scenario folder or .zip",
        )
        return LoadResult(None, report, source)
    if p.is_file():
        if p.suffix.lower() != ".zip":
            report.error(
                p.name,
                None,
                None,
                "not-a-scenario",
                f"{p.name} is a file; expected a folder with {TOML} or a .zip of it",
            )
            return LoadResult(None, report, source)
        with tempfile.TemporaryDirectory(prefix="westplan-zip-") as tmp:
            if not extract_zip(p, Path(tmp) / "x", report, zip_limits):
                return LoadResult(None, report, source)
            root = scenario_root(Path(tmp) / "x")
            if root is None:
                report.error(
                    p.name,
                    None,
                    None,
                    "no-scenario-toml",
                    f"the zip holds no {TOML} (at its top or in one folder)",
                )
                return LoadResult(None, report, source)
            return LoadResult(_load_folder(root, report), report, source)
    root = scenario_root(p)
    if root is None:
        report.error(TOML, None, None, "no-scenario-toml", f"{p} has no {TOML}")
        return LoadResult(None, report, source)
    return LoadResult(_load_folder(root, report), report, source)


# --- scenario.toml ---------------------------------------------------------------------------


def _read_toml(root: Path, report: Report) -> dict[str, Any] | None:
    try:
        text = (root / TOML).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        report.error(TOML, None, None, "encoding", f"{TOML} is not UTF-8 text")
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        report.error(
            TOML, int(m.group(1)) if m else None, None, "toml-syntax", f"invalid TOML: {exc}"
        )
        return None


def _toml_line(root: Path, key: str) -> int | None:
    """Line of ``key = ...`` in scenario.toml, for messages."""
    try:
        for n, text in enumerate((root / TOML).read_text(encoding="utf-8-sig").splitlines(), 1):
            if re.match(rf"\s*{re.escape(key)}\s*=", text):
                return n
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _settings(root: Path, doc: dict[str, Any], report: Report) -> tuple[sc.Rules, sc.Weights]:
    def build(section: str, cls: type[Any]) -> Any:
        given = doc.get(section, {})
        if not isinstance(given, dict):
            report.error(
                TOML,
                _toml_line(root, section),
                section,
                "toml-type",
                f"[{section}] must be a table",
            )
            return cls()
        defaults = cls()
        values: dict[str, Any] = {}
        known = {f.name: getattr(defaults, f.name) for f in fields(cls)}
        for key, value in given.items():
            line = _toml_line(root, key)
            if key not in known:
                report.warning(
                    TOML,
                    line,
                    key,
                    "unknown-setting",
                    f"[{section}] {key} is not a known setting; expected one of {', '.join(known)}",
                )
                continue
            default = known[key]
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, int):
                ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            elif isinstance(default, float):
                ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
            else:
                ok = isinstance(value, list) and all(isinstance(v, int | float) for v in value)
                value = tuple(value) if ok else value
            if not ok:
                report.error(
                    TOML,
                    line,
                    key,
                    "toml-type",
                    f"[{section}] {key} = {value!r}; expected a value like {default!r}",
                )
                continue
            values[key] = float(value) if isinstance(default, float) else value
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:  # pragma: no cover - types checked above
            report.error(TOML, None, section, "toml-type", str(exc))
            return defaults

    rules = build("rules", sc.Rules)
    weights = build("weights", sc.Weights)
    if not 0 <= rules.undergraduate_min_share <= 1:
        report.error(
            TOML,
            _toml_line(root, "undergraduate_min_share"),
            "undergraduate_min_share",
            "toml-type",
            f"undergraduate_min_share = {rules.undergraduate_min_share}; expected a share between 0 and 1",
        )
    if len(rules.transport_tiers_km) != len(rules.transport_tiers_cny):
        report.error(
            TOML,
            _toml_line(root, "transport_tiers_km"),
            "transport_tiers_km",
            "toml-type",
            "transport_tiers_km and transport_tiers_cny must have the same length",
        )
    return rules, weights


# --- the folder ------------------------------------------------------------------------------


def _load_folder(root: Path, report: Report) -> sc.Scenario | None:
    doc = _read_toml(root, report)
    if doc is None:
        return None
    for key in doc:
        if key not in _TOP_KEYS:
            report.warning(
                TOML,
                _toml_line(root, key),
                key,
                "unknown-setting",
                f"unknown key {key!r} in {TOML}",
            )
    declared = doc.get("crs", "wgs84")
    if declared not in crsmod.CRS_NAMES:
        report.error(
            TOML,
            _toml_line(root, "crs"),
            "crs",
            "bad-crs",
            f"crs = {declared!r}; expected one of {', '.join(crsmod.CRS_NAMES)}",
        )
        declared = "wgs84"
    rules, weights = _settings(root, doc, report)
    files = doc.get("files")
    if not isinstance(files, dict) or not files:
        report.error(
            TOML, None, "files", "no-files", f"{TOML} has no [files] table naming the tables"
        )
        return None
    tables: dict[str, ParsedTable] = {}
    layers: dict[str, Layer] = {}
    counties_layer: Layer | None = None
    for key, name in files.items():
        line = _toml_line(root, key)
        if key not in _FILE_KEYS:
            report.warning(
                TOML,
                line,
                key,
                "unknown-file-key",
                f"[files] {key} is not a table of the contract; ignored",
            )
            continue
        if not isinstance(name, str) or not name:
            report.error(
                TOML, line, key, "toml-type", f"[files] {key} = {name!r}; expected a file name"
            )
            continue
        if key == "counties" and name == BUILTIN_COUNTIES:
            continue
        path = (root / name).resolve()
        if not path.is_relative_to(root.resolve()):
            report.error(
                TOML,
                line,
                key,
                "path-outside",
                f"[files] {key} = {name!r} points outside the scenario folder",
            )
            continue
        if key in ("counties", "townships"):
            codes = ("code", "county_code") if key == "counties" else ("township_code", "code")
            layer = read_layer(path, name, declared, codes, report)
            if layer is not None:
                layers[key] = layer
                if key == "counties":
                    counties_layer = layer
            continue
        table = read_table(path, name, TABLES[key], report)
        if table is not None:
            tables[key] = table
    named = set(files)
    has_alloc = [t for t in ALLOCATION_TABLES if t in named]
    if has_alloc and len(has_alloc) < len(ALLOCATION_TABLES):
        missing = [t for t in ALLOCATION_TABLES if t not in named]
        report.error(
            TOML,
            None,
            "files",
            "missing-table",
            f"an allocation scenario needs {', '.join(ALLOCATION_TABLES)}; [files] lacks {', '.join(missing)}",
        )
    has_route = [t for t in ROUTING_TABLES if t in named]
    if has_route and len(has_route) < len(ROUTING_TABLES):
        missing = [t for t in ROUTING_TABLES if t not in named]
        report.error(
            TOML,
            None,
            "files",
            "missing-table",
            f"a routing scenario needs stations and stops; [files] lacks {', '.join(missing)}",
        )
    if not has_alloc and not has_route:
        report.error(
            TOML,
            None,
            "files",
            "missing-table",
            f"[files] names no allocation tables ({', '.join(ALLOCATION_TABLES)}) and no routing tables (stations, stops)",
        )
    _to_wgs84(tables, declared)
    geography = Geography.from_layer(counties_layer) if counties_layer else Geography.builtin()
    check_scenario(tables, layers.get("townships"), geography, rules, report)
    if not report.ok:
        return None
    return _build(doc, rules, weights, tables, geography, layers.get("townships"))


def _to_wgs84(tables: dict[str, ParsedTable], declared: str) -> None:
    if declared == "wgs84":
        return
    for key, lon_col, lat_col in (
        ("posts", "lon", "lat"),
        ("stations", "lon", "lat"),
        ("stops", "lon", "lat"),
        ("applicants", "home_lon", "home_lat"),
    ):
        t = tables.get(key)
        if t is not None and len(t):
            t.columns[lon_col], t.columns[lat_col] = crsmod.to_wgs84(
                t.columns[lon_col], t.columns[lat_col], declared
            )


# --- building the typed scenario -------------------------------------------------------------


def _extra(t: ParsedTable) -> sc.ExtraColumns:
    return sc.ExtraColumns(t.extra_names, tuple(t.columns[n] for n in t.extra_names))


def _set(values: np.ndarray) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(p.strip() for p in v.split(";") if p.strip()) for v in values)


def _rank(values: np.ndarray) -> np.ndarray:
    lookup = {d: i for i, d in enumerate(sc.DEGREES)}
    return np.asarray([lookup.get(v, -1) for v in values], dtype=np.int64)


def _build(
    doc: dict[str, Any],
    rules: sc.Rules,
    weights: sc.Weights,
    tables: dict[str, ParsedTable],
    geography: Geography,
    townships: Layer | None,
) -> sc.Scenario:
    g = geography.counties
    counties = sc.Counties(
        code=g["code"].to_numpy(str),
        name=g["name"].to_numpy(str),
        prefecture_code=g["prefecture_code"].to_numpy(str),
        province_code=g["province_code"].to_numpy(str),
        centroid_lon=g["centroid_lon"].to_numpy(float),
        centroid_lat=g["centroid_lat"].to_numpy(float),
    )
    kw: dict[str, Any] = {}
    if (t := tables.get("quotas")) is not None:
        c = t.columns
        kw["quotas"] = sc.Quotas(
            county_code=c["county_code"],
            general_quota=c["general_quota"],
            special_quota=np.stack([c[f"{a}_quota"] for a in sc.SPECIAL_ACTIONS], axis=1)
            if len(t)
            else np.zeros((0, len(sc.SPECIAL_ACTIONS)), dtype=np.int64),
            barred=c["barred"],
            served_last_year=c["served_last_year"],
            extra=_extra(t),
        )
    if (t := tables.get("posts")) is not None:
        c = t.columns
        lon, lat = _fill_post_locations(c, townships, geography)
        kw["posts"] = sc.Posts(
            post_id=c["post_id"],
            county_code=c["county_code"],
            township_code=c["township_code"],
            category=c["category"],
            seats=c["seats"],
            lon=lon,
            lat=lat,
            township_name=c["township_name"],
            relay=c["relay"],
            required_majors=_set(c["required_majors"]),
            min_degree=_rank(c["min_degree"]),
            extra=_extra(t),
        )
    if (t := tables.get("continuing")) is not None:
        kw["continuing"] = sc.Continuing(t.columns["volunteer_id"], t.columns["post_id"], _extra(t))
    if (t := tables.get("applicants")) is not None:
        c = t.columns
        prefs = (
            np.stack([c[p] for p in PREF_COLUMNS], axis=1)
            if len(t)
            else np.zeros((0, 5), dtype=str)
        )
        kw["applicants"] = sc.Applicants(
            applicant_id=c["applicant_id"],
            recruit_province=c["recruit_province"],
            degree=_rank(c["degree"]),
            major_class=c["major_class"],
            preferences=prefs,
            home_county_code=c["home_county_code"],
            home_lon=c["home_lon"],
            home_lat=c["home_lat"],
            preferred_categories=_set(c["preferred_categories"]),
            term_years=c["term_years"].astype(np.int64) if len(t) else np.zeros(0, np.int64),
            health_ok=c["health_ok"],
            extra=_extra(t),
        )
    if (t := tables.get("pairing")) is not None:
        c = t.columns
        kw["pairing"] = sc.Pairing(
            c["service_province"], c["recruit_province"], c["seats"], _extra(t)
        )
    if (t := tables.get("targets")) is not None:
        c = t.columns
        kw["targets"] = sc.Targets(c["province_code"], c["role"], c["target"], _extra(t))
    if (t := tables.get("previous_plan")) is not None:
        kw["previous_plan"] = sc.PreviousPlan(
            t.columns["applicant_id"], t.columns["post_id"], _extra(t)
        )
    if (t := tables.get("stations")) is not None:
        c = t.columns
        kw["stations"] = sc.Stations(
            station_id=c["station_id"],
            county_code=c["county_code"],
            lon=c["lon"],
            lat=c["lat"],
            vehicles=c["vehicles"],
            clients_per_vehicle_day=c["clients_per_vehicle_day"],
            shift_start=c["shift_start"],
            shift_end=c["shift_end"],
            crew_size=c["crew_size"],
            days=c["days"],
            extra=_extra(t),
        )
    if (t := tables.get("stops")) is not None:
        c = t.columns
        kw["stops"] = sc.Stops(
            stop_id=c["stop_id"],
            county_code=c["county_code"],
            lon=c["lon"],
            lat=c["lat"],
            demand=c["demand"],
            township_code=c["township_code"],
            minutes_per_client=c["minutes_per_client"],
            setup_minutes=c["setup_minutes"],
            open=c["open"],
            close=c["close"],
            priority=c["priority"],
            extra=_extra(t),
        )
    if (t := tables.get("travel_times")) is not None:
        c = t.columns
        kw["travel_times"] = sc.TravelTimes(c["from_id"], c["to_id"], c["minutes"], _extra(t))
    return sc.Scenario(
        name=str(doc.get("name", "")),
        year=int(doc.get("year", 0) or 0),
        synthetic=bool(doc.get("synthetic", False)),
        description=str(doc.get("description", "")),
        rules=rules,
        weights=weights,
        counties=counties,
        **kw,
    )


def _fill_post_locations(
    c: dict[str, np.ndarray], townships: Layer | None, geography: Geography
) -> tuple[np.ndarray, np.ndarray]:
    """Post coordinates: its own, else its township's centroid, else its county's (section 2)."""
    lon = c["lon"].copy()
    lat = c["lat"].copy()
    missing = np.isnan(lon) | np.isnan(lat)
    if missing.any() and townships is not None:
        frame = townships.frame
        pts = frame.geometry.representative_point()
        by_code = dict(zip(frame["code"], zip(pts.x, pts.y, strict=True), strict=True))
        for i in np.flatnonzero(missing):
            xy = by_code.get(c["township_code"][i])
            if xy is not None:
                lon[i], lat[i] = xy
        missing = np.isnan(lon) | np.isnan(lat)
    if missing.any():
        cen = geography.centroids()
        for i in np.flatnonzero(missing):
            lon[i], lat[i] = cen[c["county_code"][i]]
    return lon, lat
