"""What the map tests share: reading plan tables, routing files beside a plan, and what a
page visit must not do. The fixtures built from these are in ``tests/conftest.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tests.support.browser import PageVisit
from tests.support.paths import ARTIFACTS

ARTIFACTS = ARTIFACTS
"""Screenshots of the map tests (ignored by git)."""


def read_table(path: Path) -> pd.DataFrame:
    """A CSV file of a plan or scenario as strings, as the offices wrote it."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def write_routes(folder: Path, scenario: Path) -> None:
    """Routes of two vehicles over two days and a coverage table, in the routing format.

    ``routes.geojson``: one LineString per vehicle-day (depot, stops in order, depot) with
    properties station_id, vehicle, day and stops (stop_id, arrive, clients, ...).
    ``coverage.csv``: township_code, demand, served, target (clients), met (+ lon, lat).
    """
    station = read_table(scenario / "stations.csv").iloc[0]
    stops = read_table(scenario / "stops.csv")
    x0, y0 = float(station["lon"]), float(station["lat"])
    features = []
    for day in (1, 2):
        for vehicle in (1, 2):
            pts = [(x0 + 0.01 * vehicle, y0 + 0.01 * k * day) for k in (1, 2)]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[x0, y0], *map(list, pts), [x0, y0]],
                    },
                    "properties": {
                        "station_id": station["station_id"],
                        "vehicle": vehicle,
                        "day": day,
                        "clients": 15,
                        "stops": [
                            {"order": k + 1, "stop_id": sid, "arrive": t, "clients": c}
                            for k, (sid, t, c) in enumerate(
                                zip(
                                    stops["stop_id"],
                                    [540 + 30 * vehicle, 600 + 30 * vehicle],
                                    [10, 5],
                                    strict=True,
                                )
                            )
                        ],
                    },
                }
            )
    (folder / "routes.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    demand = stops["demand"].astype(int).to_numpy()
    served = np.array([demand[0], demand[1] // 3])
    coverage = pd.DataFrame(
        {
            "township_code": stops["township_code"],
            "township_name": ["甲镇", "乙镇"],
            "demand": demand,
            "served": served,
            "target": np.ceil(0.8 * demand).astype(int),
            "met": (served >= np.ceil(0.8 * demand)).astype(int),
        }
    )
    coverage["lon"] = stops["lon"].astype(float).to_numpy() + np.array([0.0, 0.02])
    coverage["lat"] = stops["lat"].astype(float)
    coverage.to_csv(folder / "coverage.csv", index=False, encoding="utf-8-sig")


def check_clean(v: PageVisit) -> None:
    assert v.page_errors == []
    assert v.console_errors == []
    assert v.requests == [], "the page requested something outside the file"
    assert v.dialogs == []


def last_text(page: Any, selector: str) -> str:
    """The text of the last element matching ``selector`` (the popup opened last)."""
    return str(page.evaluate(f"[...document.querySelectorAll({selector!r})].pop().innerText"))
