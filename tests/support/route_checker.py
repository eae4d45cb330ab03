"""An independent feasibility checker of routing results, written from planning model section 3.

It reads only the problem's input arrays and the result's rows, and re-walks every route in
minutes: a route is one staffed vehicle of a station on one campaign day; it leaves the
station and returns within the shift; each visit's set-up and service lie inside the stop's
time window; travel times come from the matrix and are finite; a route's clients fit the
vehicle's daily capacity; a stop's visits add up to its served clients and never exceed its
demand; every unserved client has a known reason. It shares no code with the solver.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

KNOWN_REASONS = {"no_capacity", "travel_time", "no_crew", "outside_shift", "time_window", "no_path"}
EPS = 1e-6


def check_routes(problem, result) -> list[str]:  # type: ignore[no-untyped-def]
    """Every violated rule (empty list: the result is feasible and consistent)."""
    p, r = problem, result
    bad: list[str] = []
    s0 = len(p.station_id)
    ro, vi = r.routes, r.visits
    slots = Counter()
    for k in range(len(ro.station)):
        s, d, v = int(ro.station[k]), int(ro.day[k]), int(ro.vehicle[k])
        name = f"route {k} (station {p.station_id[s]}, day {d + 1}, vehicle {v + 1})"
        slots[(s, d, v)] += 1
        if not 0 <= d < int(p.days[s]):
            bad.append(f"{name}: day outside the station's {int(p.days[s])} campaign days")
        # crews: vehicle v runs on day d only when at least v + 1 vehicles are staffed (a day
        # past the horizon has none)
        staffed = int(p.staffed[s, d]) if 0 <= d < p.staffed.shape[1] else 0
        if v >= staffed or v >= int(p.vehicles[s]):
            bad.append(f"{name}: vehicle not staffed that day ({staffed} staffed)")
        rows = np.flatnonzero(vi.route == k)
        rows = rows[np.argsort(vi.order[rows])]
        if len(rows) == 0:
            bad.append(f"{name}: a route without visits")
            continue
        if list(vi.order[rows]) != list(range(1, len(rows) + 1)):
            bad.append(f"{name}: visit order is not 1..n")
        t = float(ro.depart[k])
        if t < p.shift_start[s] - EPS:
            bad.append(f"{name}: leaves at {t:.1f} before the shift starts {p.shift_start[s]}")
        here, drive, load = s, 0.0, 0
        for i in rows.tolist():
            j = int(vi.stop[i])
            node = s0 + j
            if p.stop_county[j] != p.station_county[s]:
                bad.append(f"{name}: stop {p.stop_id[j]} is in another county")
            leg = float(p.travel[here, node])
            if not np.isfinite(leg):
                bad.append(f"{name}: no path to stop {p.stop_id[j]}")
                break
            drive += leg
            if abs(float(vi.arrive[i]) - (t + leg)) > 1e-4:
                bad.append(
                    f"{name}: arrives at {p.stop_id[j]} at {vi.arrive[i]:.2f}, "
                    f"expected {t + leg:.2f}"
                )
            setup = float(p.setup_minutes[j])
            if vi.start[i] < vi.arrive[i] + setup - EPS:
                bad.append(f"{name}: service at {p.stop_id[j]} starts before set-up ends")
            q = int(vi.clients[i])
            if q <= 0:
                bad.append(f"{name}: a visit with {q} clients")
            end = float(vi.start[i]) + float(p.minutes_per_client[j]) * q
            if abs(float(vi.depart[i]) - end) > 1e-4:
                bad.append(
                    f"{name}: leaves {p.stop_id[j]} at {vi.depart[i]:.2f}, expected {end:.2f}"
                )
            if p.open[j] >= 0 and (
                vi.start[i] - setup < p.open[j] - EPS or vi.depart[i] > p.close[j] + EPS
            ):
                bad.append(
                    f"{name}: visit at {p.stop_id[j]} outside its window "
                    f"[{p.open[j]}, {p.close[j]}]"
                )
            load += q
            t, here = float(vi.depart[i]), node
        back = float(p.travel[here, s])
        if not np.isfinite(back):
            bad.append(f"{name}: no path back to the station")
            continue
        drive += back
        if abs(float(ro.back[k]) - (t + back)) > 1e-4:
            bad.append(f"{name}: returns at {ro.back[k]:.2f}, expected {t + back:.2f}")
        if t + back > p.shift_end[s] + EPS:
            bad.append(f"{name}: returns at {t + back:.1f} after the shift ends {p.shift_end[s]}")
        if load > int(p.capacity[s]):
            bad.append(f"{name}: {load} clients over the daily capacity {int(p.capacity[s])}")
        if load != int(ro.clients[k]):
            bad.append(f"{name}: reports {int(ro.clients[k])} clients, visits add up to {load}")
        if abs(drive - float(ro.travel[k])) > 1e-4:
            bad.append(
                f"{name}: reports {ro.travel[k]:.2f} travel minutes, legs add up to {drive:.2f}"
            )
    for slot, n in slots.items():
        if n > 1:
            bad.append(f"vehicle-day {slot} runs {n} routes")
    served = np.zeros(len(p.stop_id), dtype=np.int64)
    np.add.at(served, np.asarray(vi.stop, dtype=np.int64), np.asarray(vi.clients, np.int64))
    if not np.array_equal(served, np.asarray(r.served)):
        bad.append("served per stop does not equal the sum of its visits")
    over = np.flatnonzero(served > p.demand)
    bad.extend(f"stop {p.stop_id[j]}: {served[j]} served > demand {p.demand[j]}" for j in over)
    for j in np.flatnonzero(served < p.demand).tolist():
        if str(r.reason[j]) not in KNOWN_REASONS:
            bad.append(f"stop {p.stop_id[j]}: unserved demand without a reason ({r.reason[j]!r})")
    bad.extend(_check_left_reasons(p, r))
    if abs(float(np.sum(ro.travel)) - float(r.travel_minutes)) > 1e-3:
        bad.append("total travel minutes differ from the sum of the routes")
    return bad


def _walk_end(p, s, stops, clients):  # type: ignore[no-untyped-def]
    """Return time of station ``s`` visiting ``stops`` in order (inf: a window or path fails)."""
    s0 = len(p.station_id)
    t, here = float(p.shift_start[s]), s
    for j, q in zip(stops, clients, strict=True):
        t += float(p.travel[here, s0 + j])
        begin = t + float(p.setup_minutes[j])
        if p.open[j] >= 0:
            begin = max(begin, float(p.open[j]) + float(p.setup_minutes[j]))
        t = begin + float(p.minutes_per_client[j]) * q
        if p.open[j] >= 0 and t > p.close[j] + EPS:
            return float("inf")
        here = s0 + j
    back = t + float(p.travel[here, s])
    return back if np.isfinite(back) else float("inf")


def _check_left_reasons(p, r) -> list[str]:  # type: ignore[no-untyped-def]
    """``no_capacity``: every staffed vehicle-day of the county is full. ``travel_time``: some
    have clients to spare, but none of those can take one more client of the stop (a longer
    visit or a new one at any place) and still be back within its shift."""
    bad: list[str] = []
    ro, vi = r.routes, r.visits
    by_slot = {}
    for k in range(len(ro.station)):
        rows = np.flatnonzero(vi.route == k)
        rows = rows[np.argsort(vi.order[rows])]
        by_slot[(int(ro.station[k]), int(ro.day[k]), int(ro.vehicle[k]))] = (
            [int(vi.stop[i]) for i in rows],
            [int(vi.clients[i]) for i in rows],
        )
    for j in np.flatnonzero(np.asarray(r.served) < p.demand).tolist():
        code = str(r.reason[j])
        if code not in ("no_capacity", "travel_time"):
            continue
        spare = []
        for s in np.flatnonzero(p.station_county == p.stop_county[j]).tolist():
            for d in range(len(p.staffed[s])):
                for v in range(int(p.staffed[s, d])):
                    stops, clients = by_slot.get((s, d, v), ([], []))
                    if sum(clients) < int(p.capacity[s]):
                        spare.append((s, stops, clients))
        if code == "no_capacity" and spare:
            bad.append(f"stop {p.stop_id[j]}: no_capacity, but {len(spare)} vehicle-days have room")
        if code == "travel_time" and not spare:
            bad.append(f"stop {p.stop_id[j]}: travel_time, but every vehicle-day is full")
        for s, stops, clients in spare if code == "travel_time" else []:
            tries = []
            if j in stops:
                at = stops.index(j)
                tries.append((stops, [q + (n == at) for n, q in enumerate(clients)]))
            else:
                for at in range(len(stops) + 1):
                    tries.append(([*stops[:at], j, *stops[at:]], [*clients[:at], 1, *clients[at:]]))
            for st, cl in tries:
                if _walk_end(p, s, st, cl) <= p.shift_end[s] + EPS:
                    bad.append(
                        f"stop {p.stop_id[j]}: travel_time, but a vehicle-day of station "
                        f"{p.station_id[s]} could serve one more of its clients"
                    )
                    break
    return bad
