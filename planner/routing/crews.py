"""Who crews the service vehicles: a plan's ``mobile_service`` volunteers handed to the stations.

A vehicle runs only when its crew is staffed by volunteers assigned to its station's
``mobile_service`` post (planning model section 3). A plan places volunteers on posts of a
county, not of a station, so a county's crew (its new placements on ``mobile_service`` posts
plus the continuing volunteers on them) is handed to the county's stations in the stations'
file order, at most vehicles x crew size each.
"""

from __future__ import annotations

import pandas as pd

from planner.i18n import _
from planner.scenario import Stations

MOBILE = "mobile_service"
"""The post category of the vehicles' crews."""


def mobile_volunteers(assignments: pd.DataFrame, seats: pd.DataFrame | None) -> dict[str, int]:
    """Volunteers on ``mobile_service`` posts per county: new placements (``assignments``)
    plus continuing volunteers (the ``continuing`` column of ``seats``, where given).

    Raises
    ------
    ValueError
        When ``assignments`` lacks the ``county_code`` or ``category`` column.
    """
    for col in ("county_code", "category"):
        if col not in assignments.columns:
            raise ValueError(
                _("no column {column!r}; expected the columns of a plan's assignments", column=col)
            )
    mobile = assignments[assignments["category"] == MOBILE]
    by_county: dict[str, int] = {
        str(k): int(v) for k, v in mobile.groupby("county_code").size().items()
    }
    if seats is not None and {"county_code", "category", "continuing"} <= set(seats.columns):
        held = seats[seats["category"] == MOBILE]
        for county, n in held.groupby("county_code")["continuing"]:
            by_county[str(county)] = by_county.get(str(county), 0) + int(pd.to_numeric(n).sum())
    return by_county


def hand_out_crews(stations: Stations, volunteers: dict[str, int]) -> dict[str, int]:
    """Volunteers crewing each station, by station id: each county's ``volunteers`` go to its
    stations in file order, vehicles x crew size to a station, until none are left."""
    left = dict(volunteers)
    crews: dict[str, int] = {}
    for sid, county, vehicles, size in zip(
        stations.station_id.tolist(),
        stations.county_code.tolist(),
        stations.vehicles.tolist(),
        stations.crew_size.tolist(),
        strict=True,
    ):
        have = int(left.get(county, 0))
        give = min(have, int(vehicles) * int(size))
        crews[sid] = give
        left[county] = have - give
    return crews
