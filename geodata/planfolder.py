"""The plan folder and the sweep folder: what ``planner plan``, ``planner route`` and
``planner sweep`` write, and the one place that reads them back.

Written: ``assignments.csv``, ``unassigned.csv``, ``seats.csv``, ``fairness.csv`` (and
``moves.csv`` in a re-plan), ``summary.json`` and ``plan.xlsx`` (the same tables in one
workbook) for a plan; ``routes.csv``, ``visits.csv``, ``coverage.csv``, ``unserved.csv``,
``routes.geojson`` and the ``routing`` part of ``summary.json`` for routes. CSV files are UTF-8
with a BOM, so Excel shows the Chinese text; codes stay text.

Read back: the :class:`~planner.Plan` and :class:`~planner.RoutePlan` that wrote a folder
(:func:`read_plan`, :func:`read_routes`), an earlier plan's assignments (a re-plan's previous
plan), its ``mobile_service`` volunteers (the crews of a routing), ``summary.json`` typed
(:func:`read_summary`), and any table of the folder (:func:`read_table`: codes stay text,
columns asked for as numbers or flags are checked cell by cell). The maps and the HTTP service
read plan and sweep folders through this module only.

A sweep folder (``planner sweep``): ``sweep.csv`` (one row per plan, the base first),
``sweep_counties.csv`` (per variant and county, the volunteers placed in the base and in the
variant) and ``sweep.json`` (what was swept); :func:`write_sweep` and :func:`read_sweep`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geodata.plan_xlsx import write_plan_workbook
from planner import __version__
from planner.i18n import N_, _
from planner.routing.crews import hand_out_crews, mobile_volunteers
from planner.scenario import PreviousPlan, Stations
from planner.summaries import SummaryFile, thaw

if TYPE_CHECKING:
    from planner.pins import Pins
    from planner.plan import Plan
    from planner.route_plan import RoutePlan
    from planner.scenario import Scenario
    from planner.sweep import Sweep

SUMMARY = "summary.json"


def write_plan(plan: Plan, folder: Path) -> Path:
    """Write a plan's tables, summary and workbook into ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_tables(plan.tables, folder)
    if plan.pins:  # the office's decisions the plan was solved under
        _write_tables({"pins": plan.pins.to_frame()}, folder)
    _write_json(folder / SUMMARY, plan.summary.to_dict(), indent=2)
    write_plan_workbook(folder / "plan.xlsx", plan)
    return folder


def write_routes(routes: RoutePlan, folder: Path) -> Path:
    """Write the routing files into ``folder`` (created) and the ``routing`` part of its
    ``summary.json`` (merged into a plan's summary there, else a new file)."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_tables(routes.tables, folder)
    _write_json(folder / "routes.geojson", thaw(routes.geojson), indent=None)
    path = folder / SUMMARY
    merged = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    merged.setdefault("planner_version", __version__)
    data = routes.scenario.data
    merged.setdefault(
        "scenario",
        {
            "name": data.name,
            "year": data.year,
            "synthetic": data.synthetic,
            "source": routes.scenario.source,
        },
    )
    merged["routing"] = routes.summary.to_dict()
    _write_json(path, merged, indent=2)
    return folder


def _write_tables(tables: Mapping[str, pd.DataFrame], folder: Path) -> None:
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8-sig")


def _write_json(path: Path, value: Any, indent: int | None) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=indent), encoding="utf-8")


class PlanFolderError(ValueError):
    """A file of a plan or sweep folder that cannot be read; the message names the file, the
    row and column, and what was expected."""


def _read_csv(path: Path) -> pd.DataFrame:
    """The one CSV read of the planner's outputs: every cell as text, nothing as NaN, BOM
    or not."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def read_pins(path: Path) -> Pins:
    """The office's pins of a ``pins.csv`` (action, applicant_id, post_id; actions assign,
    forbid, close, exclude), or of the sheet 调整 of a workbook (``.xlsx``,
    :mod:`geodata.pins_xlsx`).

    Raises
    ------
    PinError
        Naming the file, line and column of every bad row.
    PlanFolderError
        When the file is not readable as CSV.
    """
    from planner.pins import Pins

    if path.suffix.lower() in (".xlsx", ".xlsm"):  # the workbook's sheet 调整
        from geodata.pins_xlsx import read_pins_workbook

        return read_pins_workbook(path)
    try:
        frame = _read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise PlanFolderError(
            _("{path}: not readable as CSV ({reason})", path=path, reason=exc)
        ) from None
    return Pins.from_frame(frame, str(path))


def read_table(
    path: Path,
    required: Iterable[str] = (),
    ints: Iterable[str] = (),
    floats: Iterable[str] = (),
    flags: Iterable[str] = (),
) -> pd.DataFrame:
    """A CSV file of a plan folder: text cells, except the columns named in ``ints``,
    ``floats`` (an empty cell is NaN) and ``flags`` (1/0, true/false, yes/no), when present.

    Raises
    ------
    PlanFolderError
        When the file is unreadable, lacks a ``required`` column, or a cell is not what its
        column asks for (the row counted as in the file: the header is row 1).
    """
    try:
        frame = _read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise PlanFolderError(
            _("{path}: not readable as CSV ({reason})", path=path, reason=exc)
        ) from None
    missing = sorted(set(required) - set(frame.columns))
    if missing:
        raise PlanFolderError(
            _(
                "{path}: missing column(s) {missing}; found {found}",
                path=path,
                missing=", ".join(missing),
                found=", ".join(frame.columns),
            )
        )
    for column in ints:
        if column in frame.columns:
            frame[column] = _numbers(frame, column, path, integer=True)
    for column in floats:
        if column in frame.columns:
            frame[column] = _numbers(frame, column, path, integer=False)
    for column in flags:
        if column in frame.columns:
            frame[column] = _flags(frame, column, path)
    return frame


def _cell_error(frame: pd.DataFrame, bad: pd.Series, column: str, path: Path, what: str) -> None:
    row = int(np.flatnonzero(bad.to_numpy())[0])
    raise PlanFolderError(
        _(
            "{path}: row {row}, column {column}: found {found!r}; expected {what}",
            path=path,
            row=row + 2,
            column=column,
            found=frame[column].iloc[row],
            what=what,
        )
    )


def _numbers(frame: pd.DataFrame, column: str, path: Path, integer: bool) -> pd.Series:
    raw = frame[column].str.strip()
    values = pd.to_numeric(raw.where(raw != "", None), errors="coerce")
    bad = values.isna() & (raw != "") if not integer else values.isna() | (values % 1 != 0)
    if bad.any():
        _cell_error(frame, bad, column, path, _("an integer") if integer else _("a number"))
    return values.astype(np.int64) if integer else values.astype(np.float64)


def _flags(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    raw = frame[column].str.strip().str.lower()
    truth = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
    bad = ~raw.isin(list(truth))
    if bad.any():
        _cell_error(frame, bad, column, path, _("1/0 or true/false"))
    return raw.map(truth).astype(bool)


def read_json(path: Path, geojson: bool = False) -> Any:
    """A JSON (or GeoJSON) file of a plan folder, as it is written, untyped.

    Raises
    ------
    PlanFolderError
        When the file is unreadable or not JSON.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        template = (
            N_("{path}: not readable as GeoJSON ({reason})")
            if geojson
            else N_("{path}: not readable as JSON ({reason})")
        )
        raise PlanFolderError(_(template, path=path, reason=exc)) from None


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object of a plan folder (``summary.json``, ``sweep.json``), untyped.

    Raises
    ------
    PlanFolderError
        When the file is unreadable or holds no JSON object.
    """
    doc = read_json(path)
    if not isinstance(doc, dict):
        raise PlanFolderError(
            _("{path}: expected a JSON object, found {type}", path=path, type=type(doc).__name__)
        )
    return doc


def read_summary(folder: Path) -> SummaryFile:
    """``summary.json`` of a plan folder, typed.

    Raises
    ------
    FileNotFoundError
        When the folder has no ``summary.json``.
    ValueError
        When it is not a plan's or a routing's summary.
    """
    path = folder / SUMMARY
    if not path.is_file():
        raise FileNotFoundError(
            _("{path}: no such file; expected a plan folder from `planner plan`", path=path)
        )
    try:
        return SummaryFile.from_dict(read_json_object(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFolderError(f"{path}: {exc}") from None


PLAN_TABLES = ("assignments", "unassigned", "seats", "fairness", "moves", "pins")
ROUTE_TABLES = ("routes", "visits", "coverage", "unserved")


def _scenario_of(summary: SummaryFile, scenario: Scenario | None, folder: Path) -> Scenario:
    """The given scenario, else the one the summary names."""
    if scenario is not None:
        return scenario
    if not summary.scenario.source:
        raise ValueError(
            f"{folder / SUMMARY}: the scenario {summary.scenario.name!r} was built from "
            "DataFrames and has no source to read again; pass it (read_plan(folder, scenario))"
        )
    from geodata.scenario import load_scenario

    return load_scenario(summary.scenario.source)


def read_plan(folder: Path, scenario: Scenario | None = None) -> Plan:
    """The plan that wrote ``folder`` (:meth:`planner.Plan.from_files`); its scenario is
    ``scenario``, else the one ``summary.json`` names.

    Raises
    ------
    FileNotFoundError
        When the folder has no plan.
    ValueError
        When its files are not what the scenario and its assignments give.
    """
    from planner.plan import Plan

    summary = read_summary(folder)
    if summary.plan is None:
        raise FileNotFoundError(
            _("{path}: no such file; expected a plan folder from `planner plan`", path=folder)
        )
    files = {
        name: read_table(folder / f"{name}.csv")
        for name in PLAN_TABLES
        if (folder / f"{name}.csv").is_file()
    }
    return Plan.from_files(_scenario_of(summary, scenario, folder), files, summary.plan)


def read_routes(
    folder: Path, scenario: Scenario | None = None, crews: Mapping[str, int] | None = None
) -> RoutePlan:
    """The routes that wrote ``folder``'s routing files (:meth:`planner.RoutePlan.from_files`),
    with the crews they were made with: none (declared), the plan's (``plan``: this folder's,
    ``plan DIR``: that folder's) or ``crews`` (``given``).

    Raises
    ------
    FileNotFoundError
        When the folder has no routes.
    ValueError
        When its files are not what the scenario and its visits give, or the crews were
        given by hand and ``crews`` is missing.
    """
    from planner.route_plan import RoutePlan

    summary = read_summary(folder)
    routing = summary.routing
    if routing is None:
        raise FileNotFoundError(
            _("{path}: no such file; expected a plan folder from `planner plan`", path=folder)
        )
    scenario = _scenario_of(summary, scenario, folder)
    if crews is None and routing.crews != "declared":
        if routing.crews == "given":
            raise ValueError(f"{folder}: the routes were made with crews given by hand; pass them")
        stations = scenario.data.stations
        assert stations is not None
        plan = folder if routing.crews == "plan" else Path(routing.crews.removeprefix("plan "))
        crews = read_crews(plan, stations)
    files = {name: read_table(folder / f"{name}.csv") for name in ROUTE_TABLES}
    geojson = read_json(folder / "routes.geojson", geojson=True)
    return RoutePlan.from_files(scenario, crews, files, geojson, routing)


def read_previous(folder: Path) -> PreviousPlan:
    """The assignments of an earlier plan folder, as a previous plan (term 6)."""
    frame = _read_csv(folder / "assignments.csv")
    return PreviousPlan(frame["applicant_id"].to_numpy(str), frame["post_id"].to_numpy(str))


def read_crews(folder: Path, stations: Stations) -> dict[str, int]:
    """Volunteers crewing each station, from a plan folder's ``mobile_service`` seats (new
    placements in ``assignments.csv``, continuing volunteers in ``seats.csv``).

    Raises
    ------
    FileNotFoundError
        When the folder has no ``assignments.csv``.
    ValueError
        When it lacks the columns of a plan.
    """
    path = folder / "assignments.csv"
    if not path.is_file():
        raise FileNotFoundError(
            _("{path}: no such file; expected a plan folder from `planner plan`", path=path)
        )
    seats = folder / "seats.csv"
    try:
        volunteers = mobile_volunteers(
            _read_csv(path), _read_csv(seats) if seats.is_file() else None
        )
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return hand_out_crews(stations, volunteers)


# --- sweep folders ---------------------------------------------------------------------------

SWEEP_FILES = ("sweep.csv", "sweep_counties.csv", "sweep.json")
SWEEP_COUNTY_COLUMNS = frozenset(
    {"variant", "county_code", "base", "variant_placed", "arrived", "left", "change"}
)


def write_sweep(result: Sweep, meta: dict[str, Any], folder: Path) -> Path:
    """Write a sweep's ``sweep.csv``, ``sweep_counties.csv`` and ``sweep.json`` (``meta``:
    what was swept) into ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(folder / "sweep.csv", index=False, encoding="utf-8-sig")
    result.changes_by_county().to_csv(
        folder / "sweep_counties.csv", index=False, encoding="utf-8-sig"
    )
    (folder / "sweep.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
    return folder


def read_sweep(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """``sweep.csv`` (numbers as numbers; ``changes`` and ``status`` text),
    ``sweep_counties.csv`` (``county_code`` text) and ``sweep.json`` of a sweep folder.

    Raises
    ------
    PlanFolderError
        When a file is missing or lacks its columns.
    """
    files = {n: folder / n for n in SWEEP_FILES}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise PlanFolderError(f"not a sweep folder: missing {', '.join(missing)}")
    table = pd.read_csv(
        files["sweep.csv"], encoding="utf-8-sig", dtype={"changes": str, "status": str}
    )
    counties = pd.read_csv(
        files["sweep_counties.csv"], encoding="utf-8-sig", dtype={"county_code": str}
    )
    if not set(counties.columns) >= SWEEP_COUNTY_COLUMNS:
        raise PlanFolderError(
            f"{files['sweep_counties.csv']}: expected the columns "
            f"{', '.join(sorted(SWEEP_COUNTY_COLUMNS))}"
        )
    return table, counties, read_json_object(files["sweep.json"])
