"""Load and validate a scenario (a folder, a .zip of one, a built-in name, or DataFrames) into
a :class:`planner.Scenario`: its validation report and, when there is no error, its typed,
immutable tables (:class:`planner.scenario.ScenarioData`).

``load_scenario`` and ``scenario_from_frames`` never raise on bad input: the report lists every
problem, and the typed tables exist only when there is no error (never a partial scenario).
Both end in the same checks and the same build (:func:`_assemble`). The settings
(``scenario.toml``, a workbook's settings sheet, the ``settings`` of DataFrames) are read and
checked in :mod:`geodata.settings`.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from geodata import crs as crsmod
from geodata.archive import ZipLimits, extract_zip, scenario_root
from geodata.layers import Layer, check_layer, read_layer
from geodata.scenario_xlsx import SUFFIXES as WORKBOOK_SUFFIXES
from geodata.scenario_xlsx import cell_references, read_workbook
from geodata.settings import (
    TOML,
    TOP_KEYS,
    declared_crs,
    read_toml,
    road_settings,
    rules_and_weights,
    toml_line,
)
from geodata.tables import ParsedTable, parse_frame, read_table
from geodata.validate import Geography, check_scenario
from planner import scenario as sc
from planner.i18n import N_, Text, normalize
from planner.issues import Report
from planner.labels import join_texts
from planner.schema import ALLOCATION_TABLES, ROUTING_TABLES, TABLES

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

log = logging.getLogger(__name__)


BUILTIN_COUNTIES = "builtin:china"
_FILE_KEYS = {"counties", "townships", *TABLES}
_LAYER_CODES = {"counties": ("code", "county_code"), "townships": ("township_code", "code")}
"""Accepted names of a layer's code column, first match wins."""
FRAMES = "DataFrames"
"""Where the issues of a scenario given as DataFrames point when no table is at fault."""


@dataclass(slots=True)
class _Inputs:
    """What a scenario is made of before the cross-table checks: settings, tables, layers."""

    doc: dict[str, Any]
    """``scenario.toml`` (name, year, synthetic, description ...)."""
    declared: str
    rules: sc.Rules
    weights: sc.Weights
    tables: dict[str, ParsedTable]
    layers: dict[str, Layer]
    settings_file: str
    """Where the missing-table issues point (``scenario.toml``, or the frames)."""
    roads: sc.RoadSettings | None = None
    """``[routing] roads``, its path resolved against the scenario folder."""


def read_scenario_data(path: str | Path, zip_limits: ZipLimits | None = None) -> sc.ScenarioData:
    """The typed tables of a scenario, or :class:`~planner.issues.ScenarioError` carrying the
    report (for tools and tests that want the data or nothing)."""
    return load_scenario(path, zip_limits=zip_limits).data


def load_scenario(path: str | Path, zip_limits: ZipLimits | None = None) -> sc.Scenario:
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
    if isinstance(path, str) and path.startswith("builtin:"):
        from geodata.builtin import builtin_folder, builtin_names

        name = path.removeprefix("builtin:")
        if name not in builtin_names():
            report.error(
                path,
                None,
                None,
                "unknown-builtin",
                N_("unknown built-in scenario {name!r}; expected one of {names}"),
                name=name,
                names=", ".join(builtin_names()),
            )
            return sc.Scenario(path, report)
        return sc.Scenario(path, report, _load_folder(builtin_folder(name), report))
    p = Path(path)
    source = str(p.resolve())
    if not p.exists():
        report.error(
            p.name,
            None,
            None,
            "missing-file",
            N_("{path} does not exist; expected a scenario folder or .zip"),
            path=str(p),
        )
        return sc.Scenario(source, report)
    if p.is_file():
        if p.suffix.lower() in WORKBOOK_SUFFIXES:
            return sc.Scenario(source, report, _load_workbook(p, report))
        if p.suffix.lower() != ".zip":
            report.error(
                p.name,
                None,
                None,
                "not-a-scenario",
                N_(
                    "{name} is a file; expected a folder with {toml}, a .zip of it or an .xlsx workbook"
                ),
                name=p.name,
                toml=TOML,
            )
            return sc.Scenario(source, report)
        with tempfile.TemporaryDirectory(prefix="westplan-zip-") as tmp:
            if not extract_zip(p, Path(tmp) / "x", report, zip_limits):
                return sc.Scenario(source, report)
            root = scenario_root(Path(tmp) / "x")
            if root is None:
                report.error(
                    p.name,
                    None,
                    None,
                    "no-scenario-toml",
                    N_("the zip holds no {toml} (at its top or in one folder)"),
                    toml=TOML,
                )
                return sc.Scenario(source, report)
            return sc.Scenario(source, report, _load_folder(root, report))
    root = scenario_root(p)
    if root is None:
        report.error(
            TOML, None, None, "no-scenario-toml", N_("{path} has no {toml}"), path=str(p), toml=TOML
        )
        return sc.Scenario(source, report)
    return sc.Scenario(source, report, _load_folder(root, report))


def scenario_from_frames(
    frames: Mapping[str, pd.DataFrame],
    *,
    counties: gpd.GeoDataFrame | None = None,
    townships: gpd.GeoDataFrame | None = None,
    name: str = "",
    year: int = 0,
    crs: str = "wgs84",
    settings: Mapping[str, Mapping[str, Any]] | None = None,
) -> sc.Scenario:
    """Validate DataFrames keyed by the tables' ``[files]`` names (``posts``, ``applicants``
    ...) like the files of a scenario folder; see :meth:`planner.Scenario.from_frames`.

    Issues name the table (``posts``) as their file, and its rows as the lines of the CSV the
    frame would be written as (header = line 1).
    """
    report = Report()
    # year 0: not given (a scenario built in memory need not say it), never out of range
    doc: dict[str, Any] = {"name": name, **({"year": year} if year else {}), **(settings or {})}
    declared = declared_crs(crs, report, lambda _: None, FRAMES)
    rules, weights = rules_and_weights(doc, report, lambda _: None, FRAMES)
    tables: dict[str, ParsedTable] = {}
    for key, frame in frames.items():
        if key not in TABLES:
            report.warning(
                FRAMES,
                None,
                key,
                "unknown-file-key",
                N_("{key!r} is not a table of the contract; expected one of {tables}"),
                key=key,
                tables=", ".join(TABLES),
            )
            continue
        table = parse_frame(frame, key, TABLES[key], report)
        if table is not None:
            tables[key] = table
    layers: dict[str, Layer] = {}
    for key, gdf in (("counties", counties), ("townships", townships)):
        if gdf is not None:
            layer = check_layer(gdf, key, declared, _LAYER_CODES[key], report)
            if layer is not None:
                layers[key] = layer
    inputs = _Inputs(doc, declared, rules, weights, tables, layers, FRAMES)
    return sc.Scenario("", report, _assemble(inputs, set(frames), report))


# --- the folder ------------------------------------------------------------------------------

_SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg")
"""The files a shapefile's ``.shp`` is read with (same name, these suffixes)."""


def files_used(root: Path) -> list[Path]:
    """The files of a scenario folder that loading it reads: ``scenario.toml``, the tables and
    layers its ``[files]`` names (a shapefile with its ``.shx``, ``.dbf``, ``.prj`` and
    ``.cpg``), each once and only when it exists inside ``root``. Whatever else the folder
    holds (notes, copies, other files of a zip) is never read; a service keeps only these."""
    doc = read_toml(root, Report())
    found = [(root / TOML).resolve()] if (root / TOML).is_file() else []
    files = doc.get("files") if doc else None
    if not isinstance(files, dict):
        return found
    inside = root.resolve()
    for key, name in files.items():
        if key not in _FILE_KEYS or not isinstance(name, str) or name == BUILTIN_COUNTIES:
            continue
        path = (root / name).resolve()
        if not name or not path.is_relative_to(inside):
            continue
        parts = [path]
        if path.suffix.lower() == ".shp":
            parts += [
                sibling
                for sibling in path.parent.glob(f"{glob_escape(path.stem)}.*")
                if sibling.suffix.lower() in _SHAPEFILE_PARTS
            ]
        found += [p for p in parts if p.is_file() and p not in found]
    return found


def _load_folder(root: Path, report: Report) -> sc.ScenarioData | None:
    inputs = _read_folder(root, report)
    if inputs is None:
        return None
    return _assemble(inputs, set(inputs.doc.get("files", {})), report)


def _read_folder(root: Path, report: Report) -> _Inputs | None:
    """scenario.toml and the tables and layers it names, each checked on its own."""
    doc = read_toml(root, report)
    if doc is None:
        return None

    def line_of(key: str) -> int | None:
        return toml_line(root, key)

    for key in doc:
        if key not in TOP_KEYS:
            report.warning(
                TOML,
                line_of(key),
                key,
                "unknown-setting",
                N_("unknown key {key!r} in {toml}"),
                key=key,
                toml=TOML,
            )
    declared = declared_crs(doc.get("crs", "wgs84"), report, line_of, TOML)
    rules, weights = rules_and_weights(doc, report, line_of, TOML)
    files = doc.get("files")
    if not isinstance(files, dict) or not files:
        report.error(
            TOML,
            None,
            "files",
            "no-files",
            N_("{toml} has no [files] table naming the tables"),
            toml=TOML,
        )
        return None
    tables: dict[str, ParsedTable] = {}
    layers: dict[str, Layer] = {}
    for key, name in files.items():
        path = _file_path(root, key, name, line_of(key), report)
        if path is None:
            continue
        if key in _LAYER_CODES:
            layer = read_layer(path, name, declared, _LAYER_CODES[key], report)
            if layer is not None:
                layers[key] = layer
            continue
        table = read_table(path, name, TABLES[key], report)
        if table is not None:
            tables[key] = table
    roads = road_settings(doc.get("routing", {}), root, report, line_of)
    return _Inputs(doc, declared, rules, weights, tables, layers, TOML, roads)


def _file_path(root: Path, key: str, name: Any, line: int | None, report: Report) -> Path | None:
    """The file ``[files] key = name`` names inside ``root``; None for an unknown key, a name
    that is not a file name or points outside the folder (reported), or the built-in counties."""
    if key not in _FILE_KEYS:
        report.warning(
            TOML,
            line,
            key,
            "unknown-file-key",
            N_("[files] {key} is not a table of the contract; ignored"),
            key=key,
        )
        return None
    if not isinstance(name, str) or not name:
        report.error(
            TOML,
            line,
            key,
            "toml-type",
            N_("[files] {key} = {name!r}; expected a file name"),
            key=key,
            name=name,
        )
        return None
    if key == "counties" and name == BUILTIN_COUNTIES:
        return None
    path = (root / name).resolve()
    if not path.is_relative_to(root.resolve()):
        report.error(
            TOML,
            line,
            key,
            "path-outside",
            N_("[files] {key} = {name!r} points outside the scenario folder"),
            key=key,
            name=name,
        )
        return None
    return path


# --- the workbook ----------------------------------------------------------------------------


def _load_workbook(path: Path, report: Report) -> sc.ScenarioData | None:
    """A scenario workbook (:mod:`geodata.scenario_xlsx`): its settings sheet as scenario.toml, its
    sheets as the tables; issues name the cells as Excel does."""
    book = read_workbook(path, report)
    if book is None:
        return None

    def line_of(_: str) -> int | None:
        return None

    file = book.settings_sheet
    for key in book.settings:
        if key not in TOP_KEYS:
            report.warning(
                file, None, key, "unknown-setting", N_("unknown setting {key!r}"), key=key
            )
    declared = declared_crs(book.settings.get("crs", "wgs84"), report, line_of, file)
    rules, weights = rules_and_weights(book.settings, report, line_of, file)
    inputs = _Inputs(book.settings, declared, rules, weights, book.tables, {}, file)
    data = _assemble(inputs, set(book.tables), report)
    cell_references(report, book.letters)
    return data


# --- checks across tables, and the build -----------------------------------------------------


def _assemble(inputs: _Inputs, named: set[str], report: Report) -> sc.ScenarioData | None:
    """Check that the tables make a scenario, run the cross-table checks and D1-D7, and build
    the typed tables when nothing is wrong."""
    _check_table_sets(named, inputs.settings_file, report)
    _to_wgs84(inputs.tables, inputs.declared)
    counties = inputs.layers.get("counties")
    geography = Geography.from_layer(counties) if counties else Geography.builtin()
    townships = inputs.layers.get("townships")
    check_scenario(inputs.tables, townships, geography, inputs.rules, report)
    if not report.ok:
        return None
    return _build(inputs, geography, townships)


def _check_table_sets(named: set[str], file: str, report: Report) -> None:
    """An allocation needs all its tables, routing both of its; a scenario needs one of them."""

    book = file not in (TOML, FRAMES)  # a workbook: its sheets, by the names they have
    column = None if book else "files"

    def names(tables: Sequence[str]) -> str | Text:
        if book:
            return join_texts(Text(TABLES[t].label) for t in tables)
        return ", ".join(tables)

    def lacking(tables: list[str]) -> Text:
        if file == TOML:
            return Text(N_("[files] lacks {tables}"), {"tables": ", ".join(tables)})
        if book:
            return Text(N_("the workbook has no sheet {sheets}"), {"sheets": names(tables)})
        return Text(N_("missing: {tables}"), {"tables": ", ".join(tables)})

    has_alloc = [t for t in ALLOCATION_TABLES if t in named]
    if has_alloc and len(has_alloc) < len(ALLOCATION_TABLES):
        missing = [t for t in ALLOCATION_TABLES if t not in named]
        report.error(
            file,
            None,
            column,
            "missing-table",
            N_("an allocation scenario needs {needed}; {lacking}"),
            needed=names(ALLOCATION_TABLES),
            lacking=lacking(missing),
        )
    has_route = [t for t in ROUTING_TABLES if t in named]
    if has_route and len(has_route) < len(ROUTING_TABLES):
        missing = [t for t in ROUTING_TABLES if t not in named]
        report.error(
            file,
            None,
            column,
            "missing-table",
            N_("a routing scenario needs stations and stops; {lacking}"),
            lacking=lacking(missing),
        )
    if not has_alloc and not has_route and file == TOML:
        report.error(
            file,
            None,
            "files",
            "missing-table",
            N_(
                "[files] names no allocation tables ({tables}) and no routing tables "
                "(stations, stops)"
            ),
            tables=", ".join(ALLOCATION_TABLES),
        )
    elif not has_alloc and not has_route:
        report.error(
            file,
            None,
            "files",
            "missing-table",
            N_(
                "the scenario has no allocation tables ({tables}) and no routing tables "
                "(stations, stops)"
            ),
            tables=", ".join(ALLOCATION_TABLES),
        )


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


def _build(inputs: _Inputs, geography: Geography, townships: Layer | None) -> sc.ScenarioData:
    """The typed tables: each table through its schema (:meth:`planner.columns.TableSchema.build`),
    posts without a location placed first (section 2)."""
    g = geography.counties
    counties = sc.Counties(
        code=g["code"].to_numpy(str),
        name=g["name"].to_numpy(str),
        prefecture_code=g["prefecture_code"].to_numpy(str),
        province_code=g["province_code"].to_numpy(str),
        centroid_lon=g["centroid_lon"].to_numpy(float),
        centroid_lat=g["centroid_lat"].to_numpy(float),
    )
    posts = inputs.tables.get("posts")
    if posts is not None:
        posts.columns["lon"], posts.columns["lat"] = _fill_post_locations(
            posts.columns, townships, geography
        )
    typed = {
        key: TABLES[key].build(
            t.columns, sc.ExtraColumns(t.extra_names, tuple(t.columns[n] for n in t.extra_names))
        )
        for key, t in inputs.tables.items()
    }
    doc = inputs.doc
    return sc.ScenarioData(
        name=str(doc.get("name", "")),
        year=int(doc.get("year", 0) or 0),
        synthetic=bool(doc.get("synthetic", False)),
        description=str(doc.get("description", "")),
        language=normalize(str(doc.get("language", ""))) or "",
        rules=inputs.rules,
        weights=inputs.weights,
        counties=counties,
        roads=inputs.roads,
        **typed,
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
