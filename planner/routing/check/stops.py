"""The checks of each stop of a routing result: R6 (served against the visits and the demand)
and R9 (the reason of unserved demand fits the stop's situation) (:mod:`planner.routing.check`)."""

from __future__ import annotations

import numpy as np

from planner.i18n import _
from planner.routing.check.walk import TOLERANCE, Walk, stop_name
from planner.routing.problem import NO_WINDOW, RoutingProblem
from planner.routing.result import REASONS
from planner.violation import Violation


def stops(w: Walk) -> list[Violation]:
    """R6 per stop and R9."""
    p, r = w.p, w.r
    out: list[Violation] = []
    summed = np.bincount(w.stop, weights=w.clients, minlength=p.n_stops).astype(np.int64)
    served = np.asarray(r.served, dtype=np.int64)
    reason = np.asarray(r.reason).astype(str)
    demand = np.asarray(p.demand, dtype=np.int64)
    for j in np.flatnonzero(summed != served).tolist():
        out.append(
            Violation(
                "R6",
                stop_name(p, j),
                _("served is {served}; its visits serve {n}", served=served[j], n=summed[j]),
            )
        )
    for j in np.flatnonzero(np.maximum(summed, served) > demand).tolist():
        out.append(
            Violation(
                "R6",
                stop_name(p, j),
                _(
                    "{n} clients served, above its demand {demand}",
                    n=max(summed[j], served[j]),
                    demand=demand[j],
                ),
            )
        )
    short = served < demand
    for j in np.flatnonzero(short & ~np.isin(reason, list(REASONS))).tolist():
        out.append(
            Violation(
                "R9",
                stop_name(p, j),
                _(
                    "{n} clients unserved with reason {reason!r}; expected one of {reasons}",
                    n=demand[j] - served[j],
                    reason=reason[j],
                    reasons=", ".join(REASONS),
                ),
            )
        )
    for j in np.flatnonzero(~short & (reason != "")).tolist():
        out.append(
            Violation(
                "R9",
                stop_name(p, j),
                _(
                    "fully served ({served} of {demand}) but gives the reason {reason!r}; "
                    "expected none",
                    served=served[j],
                    demand=demand[j],
                    reason=reason[j],
                ),
            )
        )
    room = _room_by_county(w)
    for j in np.flatnonzero(short & np.isin(reason, list(REASONS))).tolist():
        message = _reason_claim(w, j, str(reason[j]), int(served[j]), room)
        if message:
            out.append(Violation("R9", stop_name(p, j), message))
    return out


def _room_by_county(w: Walk) -> dict[str, tuple[int, int]]:
    """Per county: staffed vehicle-days, and those of them with clients to spare."""
    p = w.p
    staffed = np.minimum(p.staffed, p.vehicles[:, None])
    slots = staffed.sum(axis=1)
    ok = w.known & (w.day >= 0) & (w.day < p.staffed.shape[1]) & (w.vehicle >= 0)
    s, d, v = w.station[ok], w.day[ok], w.vehicle[ok]
    inside = v < staffed[s, d]
    full = inside & (w.load[ok] >= p.capacity[s])
    keys = np.unique(np.stack([s[full], d[full], v[full]], axis=1), axis=0)
    full_slots = np.bincount(keys[:, 0], minlength=p.n_stations) if len(keys) else 0
    spare = slots - full_slots
    out: dict[str, tuple[int, int]] = {}
    for county in np.unique(p.station_county).tolist():
        mine = p.station_county == county
        out[county] = (int(slots[mine].sum()), int(spare[mine].sum()))
    return out


def _reason_claim(w: Walk, j: int, code: str, served: int, room: dict[str, tuple[int, int]]) -> str:
    """Why the reason ``code`` of stop ``j`` does not hold ("" when it does)."""
    p = w.p
    county = str(p.stop_county[j])
    fleet = np.flatnonzero((p.station_county == county) & (p.vehicles > 0)).tolist()
    said = _("reason {code!r}", code=code)
    if code in ("no_path", "outside_shift", "time_window") and served > 0:
        return _(
            "{said} says no visit is possible, but {served} clients were served",
            said=said,
            served=served,
        )
    if code == "no_path":
        node = p.n_stations + j
        there = [
            s for s in fleet if np.isfinite(p.travel[s, node]) and np.isfinite(p.travel[node, s])
        ]
        if there:
            return _(
                "{said}, but station {station} has a path there and back",
                said=said,
                station=p.station_id[there[0]],
            )
    if code in ("outside_shift", "time_window"):
        fits_shift = [s for s in fleet if _fits_one_client(p, s, j, window=False)]
        fits_window = [s for s in fleet if _fits_one_client(p, s, j, window=True)]
        if code == "outside_shift" and fits_shift:
            return _(
                "{said}, but a vehicle of station {station} can serve a client there within "
                "its shift",
                said=said,
                station=p.station_id[fits_shift[0]],
            )
        if code == "time_window" and fits_window:
            return _(
                "{said}, but a vehicle of station {station} can serve a client there inside "
                "the window and its shift",
                said=said,
                station=p.station_id[fits_window[0]],
            )
        if code == "time_window" and not fits_shift:
            return _("{said}, but no visit fits even a shift without the window", said=said)
    if code == "no_crew":
        campaign = np.arange(p.staffed.shape[1])[None, :] < p.days[:, None]
        lacking = (
            (p.station_county == county)[:, None] & campaign & (p.staffed < p.vehicles[:, None])
        )
        if not lacking.any():
            return _(
                "{said}, but every vehicle of county {county} is staffed every day",
                said=said,
                county=county,
            )
    slots, spare = room.get(county, (0, 0))
    if code == "no_capacity" and spare > 0:
        return _(
            "{said}, but {spare} of the {slots} staffed vehicle-days of county {county} have "
            "clients to spare",
            said=said,
            spare=spare,
            slots=slots,
            county=county,
        )
    if code == "travel_time" and spare == 0:
        return _(
            "{said}, but all {slots} staffed vehicle-days of county {county} are full; "
            "expected 'no_capacity'",
            said=said,
            slots=slots,
            county=county,
        )
    return ""


def _fits_one_client(p: RoutingProblem, s: int, j: int, window: bool) -> bool:
    """Whether station ``s`` can drive to stop ``j``, serve one client and drive back within
    its shift (and inside the stop's window when ``window``), with margin to spare."""
    node = p.n_stations + j
    go, back = float(p.travel[s, node]), float(p.travel[node, s])
    if not (np.isfinite(go) and np.isfinite(back)):
        return False
    setup = float(p.setup_minutes[j])
    begin = float(p.shift_start[s]) + go + setup  # earliest start of service
    end = float(p.shift_end[s]) - back  # latest end of service
    if window and int(p.open[j]) != NO_WINDOW:
        begin = max(begin, float(p.open[j]) + setup)
        end = min(end, float(p.close[j]))
    return end - begin >= float(p.minutes_per_client[j]) + TOLERANCE
