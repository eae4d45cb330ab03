"""The deterministic top-up after the search: more clients on the vehicle-days
(:class:`TopUp`, used by :func:`planner.routing.county.finish`)."""

from __future__ import annotations

import math

import numpy as np

from planner.routing.problem import NO_WINDOW, RoutingProblem


class TopUp:
    """Deterministic repair after the search: put more clients on the vehicle-days.

    The search serves whole chunks (up to half a day's capacity), so a day can be left with
    a few clients and minutes to spare, and it weighs every client inside a target alike, so
    it may leave many stops a few clients short. Three passes, stops in the seed's order:

    1. ``surplus``: for each stop short of its target, the insertion of the most target
       clients into one vehicle-day (a new visit at any position, or a longer visit), making
       room by serving fewer clients beyond other stops' targets on that day; repeated.
    2. ``concentrate``: for each stop still short, smallest shortfall first, complete its
       target by moving clients to it from stops that miss their targets anyway (and from
       clients beyond targets); kept only when the stop reaches its target. Clients inside
       targets stay as many, and one more stop meets its target per success.
    3. ``fill``: the insertion of the most clients of any demand, taking none away,
       repeated over all stops until nothing fits. After it no vehicle-day can take one
       more client of an unserved stop, which is what ``travel_time`` / ``no_capacity`` say.
    """

    def __init__(
        self, p: RoutingProblem, plan: list[tuple[int, list[list[int]]]], order: np.ndarray
    ) -> None:
        self.p, self.plan, self.order = p, plan, [int(j) for j in order]
        self.s0 = p.n_stations
        self.travel = p.travel.tolist()
        self.target = p.target().tolist()
        self.served = [0] * p.n_stops
        for _, seq in plan:
            for j, q in seq:
                self.served[j] += q

    def fits(self, i: int, seq: list[list[int]]) -> float:
        """Travel minutes of the route, or -1 when it breaks the shift, a window or capacity."""
        p, tr, s0 = self.p, self.travel, self.s0
        if sum(q for _, q in seq) > p.capacity[i]:
            return -1.0
        t, here, drive = float(p.shift_start[i]), i, 0.0
        for j, q in seq:
            leg = tr[here][s0 + j]
            drive += leg
            start = t + leg + float(p.setup_minutes[j])
            if p.open[j] != NO_WINDOW:
                start = max(start, float(p.open[j] + p.setup_minutes[j]))
            t = start + float(p.minutes_per_client[j]) * q
            if p.open[j] != NO_WINDOW and t > p.close[j] + 1e-9:
                return -1.0
            here = s0 + j
        back = tr[here][i]
        if not math.isfinite(drive + back) or t + back > p.shift_end[i] + 1e-9:
            return -1.0
        return drive + back

    def avail(self, s: int, j: int, mode: str) -> int:
        """Clients of stop ``s`` that may be taken away to serve ``j``."""
        over = self.served[s] - self.target[s]
        if mode == "fill" or s == j:
            return 0
        if mode == "concentrate" and over < 0:
            return self.served[s]
        return max(over, 0)

    def variant(
        self, seq: list[list[int]], pos: int, j: int, q: int, cut: int, mode: str
    ) -> list[list[int]] | None:
        """``seq`` with ``q`` more clients of ``j`` at ``pos`` and ``cut`` fewer of others."""
        out = [list(v) for v in seq]
        if pos < len(out) and out[pos][0] == j:
            out[pos][1] += q
        else:
            out.insert(pos, [j, q])
        left: dict[int, int] = {}
        for k in range(len(out) - 1, -1, -1):
            s, n = out[k]
            if cut == 0:
                break
            left.setdefault(s, self.avail(s, j, mode))
            r = min(cut, n, left[s])
            out[k][1] -= r
            left[s] -= r
            cut -= r
        return [v for v in out if v[1] > 0] if cut == 0 else None

    def make(
        self,
        i: int,
        seq: list[list[int]],
        pos: int,
        j: int,
        q: int,
        room: tuple[int, int],
        mode: str,
    ) -> list[list[int]] | None:
        """``seq`` with ``q`` more clients of ``j`` at ``pos`` if that fits, else None.

        ``room`` is the day's spare capacity and the clients that may be taken away; the
        fewest are taken first, then as many as are added (which frees shift time).
        """
        spare, taken = room
        for cut in dict.fromkeys((max(0, q - spare), min(q, taken))):
            new = self.variant(seq, pos, j, q, cut, mode)
            if new is not None and self.fits(i, new) >= 0:
                return new
        return None

    def best(
        self, j: int, need: int, mode: str
    ) -> tuple[tuple[int, float], int, list[list[int]]] | None:
        """The insertion of up to ``need`` clients of ``j`` that serves most (then drives least)."""
        p, found = self.p, None
        for r, (i, seq) in enumerate(self.plan):
            spare = int(p.capacity[i]) - sum(q for _, q in seq)
            free = {s: self.avail(s, j, mode) for s, _ in seq}
            taken = sum(min(q, free[s]) for s, q in seq)
            room = min(need, spare + taken)
            if room <= 0:
                continue
            base = self.fits(i, seq)
            at = [k for k, v in enumerate(seq) if v[0] == j]

            for pos in at or range(len(seq) + 1):
                if self.make(i, seq, pos, j, 1, (spare, taken), mode) is None:
                    continue  # not even one more client fits here
                lo, hi, best_new, best_q = 1, room, None, 0
                while lo <= hi:  # most clients that fit (fitting is monotone in q)
                    mid = (lo + hi) // 2
                    new = self.make(i, seq, pos, j, mid, (spare, taken), mode)
                    if new is not None:
                        best_new, best_q, lo = new, mid, mid + 1
                    else:
                        hi = mid - 1
                if best_new is not None:
                    key = (best_q, base - self.fits(i, best_new))
                    if found is None or key > found[0]:
                        found = (key, r, best_new)
        return found

    def apply(self, r: int, new: list[list[int]]) -> int:
        """Replace route ``r`` by ``new``; the clients it adds."""
        i, old = self.plan[r]
        for s, q in old:
            self.served[s] -= q
        for s, q in new:
            self.served[s] += q
        self.plan[r] = (i, new)
        return sum(q for _, q in new) - sum(q for _, q in old)

    def reach(self, j: int, goal: int, mode: str) -> int:
        """Insert clients of ``j`` until ``goal`` or nothing fits; the clients added."""
        added = 0
        while self.served[j] < goal:
            found = self.best(j, goal - self.served[j], mode)
            if found is None:
                break
            added += self.apply(found[1], found[2])
        return added

    def score(self, stops: np.ndarray) -> tuple[int, int, int, float]:
        """(townships at target, clients inside stop targets, clients served with those beyond
        targets weighted by priority, minus the driving minutes) over ``stops``."""
        p, served = self.p, self.served
        towns, goal = p.township_targets(stops)
        met = sum(sum(served[j] for j in js) >= goal[w] for w, js in towns.items())
        inside = sum(min(served[j], self.target[j]) for j in stops.tolist())
        weighted = inside + sum(
            max(0, served[j] - self.target[j]) * max(int(p.priority[j]), 1) for j in stops.tolist()
        )
        drive = sum(self.fits(i, seq) for i, seq in self.plan if seq)
        return met, inside, weighted, -drive

    def run(self) -> int:
        """Apply the three passes; the clients added."""
        added = 0
        for j in self.order:
            added += self.reach(j, self.target[j], "surplus")
        short = sorted(
            (j for j in self.order if self.served[j] < self.target[j]),
            key=lambda j: self.target[j] - self.served[j],
        )
        for j in short:
            plan, served = list(self.plan), list(self.served)
            gained = self.reach(j, self.target[j], "concentrate")
            if self.served[j] < self.target[j]:
                self.plan[:], self.served = plan, served  # not completed: undo
            else:
                added += gained
        demand = self.p.demand.tolist()
        changed = True
        while changed:
            before = added
            for j in self.order:
                added += self.reach(j, demand[j], "fill")
            changed = added > before
        return added
