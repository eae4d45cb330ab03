"""The numba kernels of the warm start (:mod:`planner.allocation.warm`) on a residual network.

The residual network is given as arrays (``warm.Residual``): the arcs leaving each node
(:func:`forward_index`), the arcs with flow into each node as linked lists
(:func:`backward_lists`, kept by :func:`add_flow`), tails and heads. On it:
:func:`bellman_ford` finds the shortest distances (the potentials of step 1), and
:func:`shortest_paths` moves excesses to deficits by successive shortest paths (step 3), each
round's flow a maximum flow over the arcs of reduced cost 0 (:func:`_blocking_flow`, by
Dinic's method: :func:`_levels`, then :func:`_augment`).

Compiled with numba, cached on disk after the first use.
"""

from __future__ import annotations

import numba
import numpy as np

OK, NEGATIVE_CYCLE, GAVE_UP = 0, 1, 2
"""What :func:`bellman_ford` returns."""


@numba.njit(cache=True)
def forward_index(n: int, tails: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The arcs leaving each node: ``out[first[v]:first[v+1]]``."""
    m = len(tails)
    first = np.zeros(n + 1, dtype=np.int64)
    for e in range(m):
        first[tails[e] + 1] += 1
    for v in range(n):
        first[v + 1] += first[v]
    fill = first[:n].copy()
    out = np.empty(m, dtype=np.int64)
    for e in range(m):
        out[fill[tails[e]]] = e
        fill[tails[e]] += 1
    return first, out


@numba.njit(cache=True)
def backward_lists(n: int, heads: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The arcs with flow into each node, as linked lists (``back_first[v]``, then
    ``back_next[e]``; -1 ends a list): the backward residual arcs leaving ``v``. Only arcs
    with flow are listed (most arcs carry none); :func:`add_flow` keeps the lists."""
    back_first = np.full(n, -1, dtype=np.int64)
    back_next = np.full(len(heads), -2, dtype=np.int64)  # -2: not in a list
    for e in range(len(heads)):
        if flow[e] > 0:
            back_next[e] = back_first[heads[e]]
            back_first[heads[e]] = e
    return back_first, back_next


@numba.njit(cache=True)
def add_flow(
    e: int,
    amount: int,
    heads: np.ndarray,
    flow: np.ndarray,
    back_first: np.ndarray,
    back_next: np.ndarray,
) -> None:
    """Add ``amount`` (may be negative) to arc ``e``'s flow; an arc that gets flow joins its
    head's backward list (an arc that loses it stays listed and is skipped)."""
    flow[e] += amount
    if flow[e] > 0 and back_next[e] == -2:
        back_next[e] = back_first[heads[e]]
        back_first[heads[e]] = e


@numba.njit(cache=True)
def bellman_ford(
    first: np.ndarray,
    out: np.ndarray,
    back_first: np.ndarray,
    back_next: np.ndarray,
    tails: np.ndarray,
    heads: np.ndarray,
    caps: np.ndarray,
    flow: np.ndarray,
    cost: np.ndarray,
    pot: np.ndarray,
    budget: int,
) -> int:
    """Shortest distances into ``pot`` from a virtual source joined to every node, over the
    residual arcs of ``flow`` under ``caps`` (a FIFO queue: Bellman-Ford-Moore). Every ``n``
    label changes the predecessor graph is searched for a cycle, which is a negative cycle
    of the residual network."""
    n = len(pot)
    queue = np.empty(n, dtype=np.int64)
    queued = np.ones(n, dtype=np.bool_)
    parent = np.full(n, -1, dtype=np.int64)
    for v in range(n):
        queue[v] = v
    head, size = 0, n
    changes = 0
    scanned = 0
    limit = budget * len(tails) + n
    while size > 0:
        u = queue[head]
        head = (head + 1) % n
        size -= 1
        queued[u] = False
        du = pot[u]
        k = first[u]
        e = back_first[u]
        while True:  # the forward arcs with room, then the backward arcs with flow
            if k < first[u + 1]:
                f = out[k]
                k += 1
                if flow[f] >= caps[f]:
                    continue
                v = heads[f]
                dv = du + cost[f]
            elif e >= 0:
                f = e
                e = back_next[e]
                if flow[f] <= 0:
                    continue
                v = tails[f]
                dv = du - cost[f]
            else:
                break
            scanned += 1
            if dv < pot[v]:
                pot[v] = dv
                parent[v] = u
                changes += 1
                if not queued[v]:
                    queue[(head + size) % n] = v
                    size += 1
                    queued[v] = True
        if scanned > limit:
            return GAVE_UP
        if changes >= n:
            changes = 0
            if _has_cycle(parent):
                return NEGATIVE_CYCLE
    return OK


@numba.njit(cache=True)
def _has_cycle(parent: np.ndarray) -> bool:
    """Whether following ``parent`` pointers from some node comes back to it."""
    n = len(parent)
    state = np.zeros(n, dtype=np.int8)  # 0 new, 1 on the current walk, 2 done
    for s in range(n):
        v = s
        while v >= 0 and state[v] == 0:
            state[v] = 1
            v = parent[v]
        if v >= 0 and state[v] == 1:
            return True
        v = s
        while v >= 0 and state[v] == 1:
            state[v] = 2
            v = parent[v]
    return False


@numba.njit(cache=True)
def shortest_paths(
    first: np.ndarray,
    out: np.ndarray,
    back_first: np.ndarray,
    back_next: np.ndarray,
    tails: np.ndarray,
    heads: np.ndarray,
    caps: np.ndarray,
    flow: np.ndarray,
    cost: np.ndarray,
    pot: np.ndarray,
    excess: np.ndarray,
) -> bool:
    """Successive shortest paths: move every excess to a deficit along paths of least
    reduced cost, keeping every reduced cost non-negative.

    Each round runs Dijkstra from all excesses at once until every deficit is reached, then
    raises the potentials by the distances (capped at the last one settled): every arc of
    the shortest-path tree then has reduced cost 0, and flow goes from the excesses to the
    deficits along arcs of reduced cost 0 while there are such paths (:func:`_blocking_flow`).
    False if a reduced cost is negative (the potentials were wrong) or no excess can reach a
    deficit.

    Stays whole (140 lines): the heap and the arc tests are written out in the loops, since
    numba does not inline calls that take arrays and a call per arc doubled the time; the
    Dijkstra round, the one part that could be a function of its own, is that loop (about 90
    lines with its signature) and shares eleven arrays with the rest."""
    n = len(pot)
    m = len(tails)
    inf = np.iinfo(np.int64).max
    dist = np.full(n, inf, dtype=np.int64)
    done = np.zeros(n, dtype=np.bool_)
    heap_d = np.empty(2 * m + n, dtype=np.int64)  # a binary heap of (distance, node)
    heap_v = np.empty(2 * m + n, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    settled = np.empty(n, dtype=np.int64)
    sources = np.flatnonzero(excess > 0)
    sinks = np.flatnonzero(excess < 0)
    while True:
        size = 0
        for v in sources:
            if excess[v] > 0:  # all at distance 0: already a heap
                dist[v] = 0
                touched[size] = v
                heap_d[size] = 0
                heap_v[size] = v
                size += 1
        if size == 0:
            return True
        n_touched = size
        wanted = 0
        for v in sinks:
            if excess[v] < 0:
                wanted += 1
        n_reached = 0
        n_settled = 0
        last = 0
        while size > 0 and n_reached < wanted:
            d = heap_d[0]
            u = heap_v[0]
            size -= 1  # pop: the last entry sifts down from the top
            heap_d[0] = heap_d[size]
            heap_v[0] = heap_v[size]
            i = 0
            while 2 * i + 1 < size:
                c = 2 * i + 1
                if c + 1 < size and heap_d[c + 1] < heap_d[c]:
                    c += 1
                if heap_d[i] <= heap_d[c]:
                    break
                heap_d[c], heap_d[i] = heap_d[i], heap_d[c]
                heap_v[c], heap_v[i] = heap_v[i], heap_v[c]
                i = c
            if done[u] or d > dist[u]:
                continue
            done[u] = True
            settled[n_settled] = u
            n_settled += 1
            last = d
            if excess[u] < 0:
                n_reached += 1
            pu = pot[u]
            k = first[u]
            e = back_first[u]
            while True:  # the forward arcs with room, then the backward arcs with flow
                if k < first[u + 1]:
                    f = out[k]
                    k += 1
                    if flow[f] >= caps[f]:
                        continue
                    v = heads[f]
                    rc = cost[f] + pu - pot[v]
                elif e >= 0:
                    f = e
                    e = back_next[e]
                    if flow[f] <= 0:
                        continue
                    v = tails[f]
                    rc = -cost[f] + pu - pot[v]
                else:
                    break
                if rc < 0:
                    return False
                if done[v]:
                    continue
                dv = d + rc
                if dv < dist[v]:
                    if dist[v] == inf:
                        touched[n_touched] = v
                        n_touched += 1
                    dist[v] = dv
                    i = size  # push: sift up from the bottom
                    size += 1
                    heap_d[i] = dv
                    heap_v[i] = v
                    while i > 0 and heap_d[(i - 1) // 2] > heap_d[i]:
                        up = (i - 1) // 2
                        heap_d[up], heap_d[i] = heap_d[i], heap_d[up]
                        heap_v[up], heap_v[i] = heap_v[i], heap_v[up]
                        i = up
        if n_reached == 0:
            return False
        for i in range(n_settled):
            v = settled[i]
            pot[v] += dist[v] - last
        _blocking_flow(
            first,
            out,
            back_first,
            back_next,
            tails,
            heads,
            caps,
            flow,
            cost,
            pot,
            excess,
            sources,
            done,
        )
        for i in range(n_touched):
            v = touched[i]
            dist[v] = inf
            done[v] = False


@numba.njit(cache=True)
def _blocking_flow(
    first: np.ndarray,
    out: np.ndarray,
    back_first: np.ndarray,
    back_next: np.ndarray,
    tails: np.ndarray,
    heads: np.ndarray,
    caps: np.ndarray,
    flow: np.ndarray,
    cost: np.ndarray,
    pot: np.ndarray,
    excess: np.ndarray,
    sources: np.ndarray,
    region: np.ndarray,
) -> None:
    """Move as much excess to deficits as arcs of reduced cost 0 (admissible arcs) carry:
    a maximum flow by Dinic's method (breadth-first levels from the excesses,
    :func:`_levels`, then depth-first paths that go one level down at each arc,
    :func:`_augment`), phase after phase until no deficit is reached. Flow on admissible arcs
    keeps every reduced cost non-negative."""
    n = len(pot)
    level = np.full(n, -1, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    via = np.empty(n, dtype=np.int64)  # the arc into stack[i] (+ m: backward)
    at_k = np.empty(n, dtype=np.int64)  # each node's current forward arc
    at_e = np.empty(n, dtype=np.int64)  # and current backward arc
    while True:
        size, deficit = _levels(
            first,
            out,
            back_first,
            back_next,
            tails,
            heads,
            caps,
            flow,
            cost,
            pot,
            excess,
            sources,
            region,
            level,
            queue,
            at_k,
            at_e,
        )
        if deficit:
            _augment(
                first,
                out,
                back_first,
                back_next,
                tails,
                heads,
                caps,
                flow,
                cost,
                pot,
                excess,
                sources,
                level,
                stack,
                via,
                at_k,
                at_e,
            )
        for i in range(size):
            level[queue[i]] = -1
        if not deficit:
            return


@numba.njit(cache=True)
def _levels(
    first: np.ndarray,
    out: np.ndarray,
    back_first: np.ndarray,
    back_next: np.ndarray,
    tails: np.ndarray,
    heads: np.ndarray,
    caps: np.ndarray,
    flow: np.ndarray,
    cost: np.ndarray,
    pot: np.ndarray,
    excess: np.ndarray,
    sources: np.ndarray,
    region: np.ndarray,
    level: np.ndarray,
    queue: np.ndarray,
    at_k: np.ndarray,
    at_e: np.ndarray,
) -> tuple[int, bool]:
    """One phase's levels: breadth-first from the excesses over admissible arcs inside
    ``region``; paths end at the first deficit. Resets each reached node's current arcs.
    Returns how many nodes ``queue`` holds (their levels set) and whether a deficit was
    reached."""
    n = len(pot)
    size = 0
    for s in sources:
        if excess[s] > 0:
            level[s] = 0
            queue[size] = s
            size += 1
    deficit = False
    for i in range(n):
        if i >= size:
            break
        u = queue[i]
        at_k[u] = first[u]
        at_e[u] = back_first[u]
        if excess[u] < 0:
            deficit = True
            continue
        pu = pot[u]
        for k in range(first[u], first[u + 1]):
            f = out[k]
            v = heads[f]
            if region[v] and level[v] < 0 and flow[f] < caps[f] and cost[f] + pu - pot[v] == 0:
                level[v] = level[u] + 1
                queue[size] = v
                size += 1
        f = back_first[u]
        while f >= 0:
            v = tails[f]
            if region[v] and level[v] < 0 and flow[f] > 0 and pu - cost[f] - pot[v] == 0:
                level[v] = level[u] + 1
                queue[size] = v
                size += 1
            f = back_next[f]
    return size, deficit


@numba.njit(cache=True)
def _augment(
    first: np.ndarray,
    out: np.ndarray,
    back_first: np.ndarray,
    back_next: np.ndarray,
    tails: np.ndarray,
    heads: np.ndarray,
    caps: np.ndarray,
    flow: np.ndarray,
    cost: np.ndarray,
    pot: np.ndarray,
    excess: np.ndarray,
    sources: np.ndarray,
    level: np.ndarray,
    stack: np.ndarray,
    via: np.ndarray,
    at_k: np.ndarray,
    at_e: np.ndarray,
) -> None:
    """One phase's paths: from each excess, depth-first down the levels of :func:`_levels`
    to a deficit, and as much flow along each path as it carries; a node that leads to no
    deficit is closed for the phase."""
    m = len(tails)
    for s in sources:
        while excess[s] > 0 and level[s] == 0:
            depth = 0
            stack[0] = s
            while depth >= 0 and excess[stack[depth]] >= 0:
                u = stack[depth]
                nxt = -1
                while at_k[u] < first[u + 1] or at_e[u] >= 0:
                    # the current arc stays current while it may carry more
                    if at_k[u] < first[u + 1]:
                        f = out[at_k[u]]
                        v = heads[f]
                        ok = flow[f] < caps[f] and cost[f] + pot[u] - pot[v] == 0
                    else:
                        f = at_e[u]
                        v = tails[f]
                        ok = flow[f] > 0 and pot[u] - cost[f] - pot[v] == 0
                        f += m
                    if ok and level[v] == level[u] + 1:
                        nxt = v
                        via[depth + 1] = f
                        break
                    if at_k[u] < first[u + 1]:
                        at_k[u] += 1
                    else:
                        at_e[u] = back_next[at_e[u]]
                if nxt < 0:
                    level[u] = -2  # leads to no deficit at this level
                    depth -= 1
                else:
                    depth += 1
                    stack[depth] = nxt
            if depth < 0:
                break
            t = stack[depth]
            amount = min(excess[s], -excess[t])
            for i in range(1, depth + 1):
                e = via[i]
                amount = min(amount, caps[e] - flow[e] if e < m else flow[e - m])
            for i in range(1, depth + 1):
                e = via[i]
                if e < m:
                    add_flow(e, amount, heads, flow, back_first, back_next)
                else:
                    add_flow(e - m, -amount, heads, flow, back_first, back_next)
            excess[s] -= amount
            excess[t] += amount
