"""Checks of the routing tables of a scenario: stations, stops (codes, points, shifts,
windows) and travel times (:mod:`geodata.validate`)."""

from __future__ import annotations

import numpy as np

from geodata.tables import ParsedTable
from geodata.validate.geography import Geography, is_code, unknown_county
from geodata.validate.posts import check_inside
from planner.i18n import N_
from planner.issues import Report


def check_places(t: ParsedTable, id_col: str, geography: Geography, report: Report) -> None:
    """A station's or stop's county code is known, its township lies in that county and its
    point inside it."""
    unknown_county(t, "county_code", geography, report)
    if "township_code" in t.columns:
        c = t.columns
        for i in range(len(t)):
            town, county = c["township_code"][i], c["county_code"][i]
            if is_code(town, 9) and is_code(county, 6) and not town.startswith(county):
                report.error(
                    t.file,
                    int(t.line[i]),
                    "township_code",
                    "township-county",
                    N_(
                        "township {township!r} is not in county {county}; expected a code "
                        "starting with {county}"
                    ),
                    township=str(town),
                    county=county,
                )
    check_inside(t, id_col, geography, report, rule="outside")


def check_shifts(t: ParsedTable, report: Report) -> None:
    """Each station's shift ends after it starts."""
    c = t.columns
    for i in np.flatnonzero((c["shift_end"] >= 0) & (c["shift_end"] <= c["shift_start"])):
        report.error(
            t.file,
            int(t.line[i]),
            "shift_end",
            "bad-shift",
            N_("shift ends at {end}, not after its start; expected shift_end > shift_start"),
            end=f"{c['shift_end'][i] // 60:02d}:{c['shift_end'][i] % 60:02d}",
        )


def check_windows(t: ParsedTable, report: Report) -> None:
    """Each stop's time window has both ends, the close after the open."""
    c = t.columns
    o, cl = c["open"], c["close"]
    for i in np.flatnonzero((o >= 0) != (cl >= 0)):
        report.error(
            t.file,
            int(t.line[i]),
            "close" if o[i] >= 0 else "open",
            "bad-window",
            N_("a time window needs both open and close"),
        )
    for i in np.flatnonzero((o >= 0) & (cl >= 0) & (cl <= o)):
        report.error(
            t.file,
            int(t.line[i]),
            "close",
            "bad-window",
            N_("close is not after open; expected open < close"),
        )


def check_travel(t: ParsedTable, known: set[str], report: Report) -> None:
    """Each travel time joins known station or stop ids and is not negative."""
    c = t.columns
    for i in range(len(t)):
        for col in ("from_id", "to_id"):
            if c[col][i] and c[col][i] not in known:
                report.error(
                    t.file,
                    int(t.line[i]),
                    col,
                    "unknown-id",
                    N_("{id!r} is neither a station nor a stop id"),
                    id=str(c[col][i]),
                )
        if np.isfinite(c["minutes"][i]) and c["minutes"][i] < 0:
            report.error(
                t.file,
                int(t.line[i]),
                "minutes",
                "bad-value",
                N_("found {found}; expected minutes >= 0 (leave empty for no path)"),
                found=c["minutes"][i],
            )
