"""The plan folder: what ``planner plan`` and ``planner route`` write, and what is read back.

Written: ``assignments.csv``, ``unassigned.csv``, ``seats.csv``, ``fairness.csv`` (and
``moves.csv`` in a re-plan), ``summary.json`` and ``plan.xlsx`` (the same tables in one
workbook) for a plan; ``routes.csv``, ``visits.csv``, ``coverage.csv``, ``unserved.csv``,
``routes.geojson`` and the ``routing`` part of ``summary.json`` for routes. CSV files are UTF-8
with a BOM, so Excel shows the Chinese text; codes stay text.

Read back: an earlier plan's assignments (a re-plan's previous plan) and its
``mobile_service`` volunteers (the crews of a routing).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geodata.planbook import write_plan_workbook
from planner import __version__
from planner.i18n import _
from planner.routing.crews import hand_out_crews, mobile_volunteers
from planner.scenario import PreviousPlan, Stations

if TYPE_CHECKING:
    from planner.plan import Plan
    from planner.routes import RoutePlan

SUMMARY = "summary.json"


def write_plan(plan: Plan, folder: Path) -> Path:
    """Write a plan's tables, summary and workbook into ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_tables(plan.tables, folder)
    _write_json(folder / SUMMARY, plan.summary, indent=2)
    write_plan_workbook(folder / "plan.xlsx", plan)
    return folder


def write_routes(routes: RoutePlan, folder: Path) -> Path:
    """Write the routing files into ``folder`` (created) and the ``routing`` part of its
    ``summary.json`` (merged into a plan's summary there, else a new file)."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_tables(routes.tables, folder)
    _write_json(folder / "routes.geojson", routes.geojson, indent=None)
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
    merged["routing"] = routes.summary
    _write_json(path, merged, indent=2)
    return folder


def _write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8-sig")


def _write_json(path: Path, value: Any, indent: int | None) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=indent), encoding="utf-8")


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


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
