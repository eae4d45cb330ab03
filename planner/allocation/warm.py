"""Re-plan from the previous plan: the relaxed optimum reached from it, not from scratch.

A re-plan after dropouts (term 6) changes little: the previous volunteers who stay keep
their seats, and the freed seats go to someone. OR-Tools' min-cost flow takes no starting
flow, so :mod:`planner.allocation.compact` would solve the whole network again. Here the
same network (:func:`~planner.allocation.network.build_flow_network`, with the same
tie-break) is solved by successive shortest paths from the previous plan:

1. **Start**: the previous plan without the dropouts is a flow ``f``. With the dropouts'
   seats still taken (each post, bucket and service province short of what they held), it is
   optimal when the previous plan was: every change would have been open to the previous
   plan too, and keeping a volunteer only got cheaper (term 6). Node potentials ``pi`` that
   prove it (every residual arc has reduced cost ``c + pi(u) - pi(v) >= 0``) are the
   shortest distances in the residual network, by a queue-based Bellman-Ford. A negative
   cycle means the start is not optimal (other inputs changed, or the previous plan was not
   a plain flow optimum): then there is no warm start and the caller solves from scratch.
2. **Free the seats**: the dropouts' capacity is given back. An arc with a negative
   reduced cost is saturated; that leaves an excess at its head and a deficit at its tail.
3. **Shortest paths**: in rounds, Dijkstra on the reduced costs from all excesses at once
   until every deficit is reached; the potentials rise by the distances, which leaves the
   shortest-path tree at reduced cost 0, and a maximum flow over the arcs of reduced cost 0
   moves as much excess to the deficits as they carry (primal-dual successive shortest
   paths). A handful of rounds for a hundred freed seats.
4. **Certificate**: the final potentials are checked against every arc. Every residual arc
   has a non-negative reduced cost, so the flow is optimal: the same value as OR-Tools'
   min-cost flow from scratch, found in a fraction of its time.

The same mending gives a tie-broken flow (:func:`tie_break`, the bachelors' tie-break of
:func:`~planner.allocation.compact.solve_compact_flow`) from the optimum without the
tie-break, whose potentials are right except where the tie-break breaks a tie.

The kernels are compiled with numba (cached on disk after the first use).
"""

from __future__ import annotations

import numba
import numpy as np

from planner.allocation.arcs import Arcs
from planner.allocation.network import FlowNetwork
from planner.allocation.problem import AllocationProblem

SEARCH_BUDGET = 40
"""The Bellman-Ford search gives up after scanning every residual arc this many times."""

_OK, _NEGATIVE_CYCLE, _GAVE_UP = 0, 1, 2

Residual = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""The residual network as the kernels take it (:func:`_residual`)."""


def warm_solve(pr: AllocationProblem, fn: FlowNetwork, direct: Arcs) -> np.ndarray | None:
    """The optimal flow of ``fn`` (one value per arc) reached from the previous plan, or
    None when the previous plan cannot start it. ``direct`` are ``fn``'s direct arcs; a
    previous volunteer starts on his (applicant, previous post) arc among them."""
    start = _start(pr, fn, direct)
    if start is None:
        return None
    flow, closed = start
    residual = _residual(fn, flow)
    pot = np.zeros(fn.n_nodes, dtype=np.int64)
    if _bellman_ford(*residual, closed, flow, fn.solver_costs, pot, SEARCH_BUDGET) != _OK:
        return None
    # the dropouts' seats are free again
    return _reoptimize(fn, flow, pot, residual)


def tie_break(fn: FlowNetwork, flow: np.ndarray) -> np.ndarray | None:
    """The optimum of ``fn`` (costs ``scale x priced + tie-break``) from an optimal ``flow``
    for the costs ``priced`` alone, or None if that fails.

    The plain optimum's potentials (Bellman-Ford on its residual network), times the scale,
    leave a negative reduced cost only where the tie-break breaks a tie; the flow is mended
    from there by shortest paths (OR-Tools with the scaled costs from scratch took about 1.8
    times as long as OR-Tools without them, on tier-national's largest parts)."""
    flow = flow.copy()
    residual = _residual(fn, flow)
    pot = np.zeros(fn.n_nodes, dtype=np.int64)
    if _bellman_ford(*residual, fn.caps, flow, fn.priced, pot, SEARCH_BUDGET) != _OK:
        return None
    return _reoptimize(fn, flow, pot * fn.scale, residual)


def _residual(fn: FlowNetwork, flow: np.ndarray) -> Residual:
    """The residual network of ``flow`` as the kernels take it: the arcs leaving each node,
    the arcs with flow into each node (:func:`_add_flow` keeps these), tails and heads."""
    first, out = _forward_index(fn.n_nodes, fn.tails)
    back_first, back_next = _backward_lists(fn.n_nodes, fn.heads, flow)
    return first, out, back_first, back_next, fn.tails, fn.heads


def _reoptimize(
    fn: FlowNetwork, flow: np.ndarray, pot: np.ndarray, residual: Residual
) -> np.ndarray | None:
    """The optimum of ``fn`` from a feasible ``flow`` and potentials ``pot`` that are wrong on
    a few arcs: an arc with room and a negative reduced cost is filled, an arc with flow and
    a positive one emptied, which leaves excesses and deficits; shortest paths move them;
    the result is checked arc by arc. None if any step fails."""
    excess = np.zeros(fn.n_nodes, dtype=np.int64)
    rc = fn.solver_costs + pot[fn.tails] - pot[fn.heads]
    fill = np.flatnonzero((rc < 0) & (flow < fn.caps))
    empty = np.flatnonzero((rc > 0) & (flow > 0))
    change = np.concatenate([fn.caps[fill] - flow[fill], -flow[empty]])
    arcs = np.concatenate([fill, empty])
    for e, x in zip(arcs.tolist(), change.tolist(), strict=True):
        _add_flow(e, x, fn.heads, flow, residual[2], residual[3])
    np.add.at(excess, fn.heads[arcs], change)
    np.subtract.at(excess, fn.tails[arcs], change)
    if not _shortest_paths(*residual, fn.caps, flow, fn.solver_costs, pot, excess):
        return None
    return flow if _certified(fn, flow, pot) else None


def warm_up() -> None:
    """Compile (or load from the disk cache) every kernel, on a network of three nodes."""
    tails = np.asarray([0, 1], dtype=np.int32)
    heads = np.asarray([1, 2], dtype=np.int32)
    caps = np.ones(2, dtype=np.int64)
    flow = np.zeros(2, dtype=np.int64)
    cost = np.zeros(2, dtype=np.int64)
    first, out = _forward_index(3, tails)
    back_first, back_next = _backward_lists(3, heads, flow)
    residual = (first, out, back_first, back_next, tails, heads)
    pot = np.zeros(3, dtype=np.int64)
    _bellman_ford(*residual, caps, flow, cost, pot, SEARCH_BUDGET)
    excess = np.asarray([1, 0, -1], dtype=np.int64)
    _shortest_paths(*residual, caps, flow, cost, pot, excess)


def _start(
    pr: AllocationProblem, fn: FlowNetwork, direct: Arcs
) -> tuple[np.ndarray, np.ndarray] | None:
    """The previous plan without the dropouts as a flow on ``fn``, and the capacities with
    the dropouts' seats still taken; None when there is no previous plan or it does not fit
    them."""
    o = fn.offsets
    n_p = pr.n_posts
    prev = pr.app_prev_post
    wanted = np.flatnonzero((prev >= 0) & (pr.app_r >= 0))
    if not len(wanted) or not len(direct):
        return None
    # each previous volunteer's (applicant, previous post) arc, where there is one
    key = direct.a * n_p + direct.p
    order = np.argsort(key, kind="stable")
    pos = np.minimum(np.searchsorted(key[order], wanted * n_p + prev[wanted]), len(key) - 1)
    found = key[order][pos] == wanted * n_p + prev[wanted]
    kept_a, kept_p = wanted[found], prev[wanted[found]]
    flow = np.zeros(len(fn.tails), dtype=np.int64)
    flow[o[2] + order[pos[found]]] = 1
    # upstream: the applicant's arc, and the arcs into its feeder (a group, a province)
    applicant_arc = np.full(pr.n_applicants, -1, dtype=np.int64)
    applicant_arc[pr.app_r >= 0] = np.arange(o[1], o[2])
    flow[applicant_arc[kept_a]] = 1
    into = np.full(fn.n_nodes, -1, dtype=np.int64)
    feeders = np.r_[o[0] : o[1], o[10] : o[11]]
    into[fn.heads[feeders]] = feeders
    node = fn.tails[applicant_arc[kept_a]]
    while len(node):
        arc = into[node]
        flow += np.bincount(arc, minlength=len(flow))
        node = fn.tails[arc]
        node = node[node != 0]  # up to the source
    # downstream: post, bucket, service province, sink
    bucket = np.maximum(pr.post_bucket, 0)
    bucket_s = pr.county_s[pr.bucket_county]

    def post_side(per_post: np.ndarray) -> np.ndarray:
        """Per-post counts summed up the post, bucket and service-province arcs."""
        per_bucket = np.bincount(bucket, weights=per_post, minlength=len(pr.bucket_cap))
        per_s = np.bincount(bucket_s, weights=per_bucket, minlength=len(pr.service_code))
        return np.concatenate([per_post, per_bucket, per_s]).astype(np.int64)

    flow[o[5] : o[8]] = post_side(np.bincount(kept_p, minlength=n_p))
    flow[o[8]] = fn.supply - len(kept_a)
    closed = fn.caps.copy()
    closed[o[5] : o[8]] -= post_side(pr.post_prev_gone * pr.post_usable)
    if np.any(flow > closed) or np.any(closed < 0) or flow[o[8]] < 0:
        return None
    return flow, closed


def _certified(fn: FlowNetwork, flow: np.ndarray, pot: np.ndarray) -> bool:
    """Whether ``flow`` is feasible and ``pot`` proves it optimal: every arc with room has a
    non-negative reduced cost, every arc with flow a non-positive one, and flow is conserved."""
    if np.any(flow < 0) or np.any(flow > fn.caps):
        return False
    rc = fn.solver_costs + pot[fn.tails] - pot[fn.heads]
    if np.any(rc[flow < fn.caps] < 0) or np.any(rc[flow > 0] > 0):
        return False
    balance = np.bincount(fn.tails, weights=flow, minlength=fn.n_nodes) - np.bincount(
        fn.heads, weights=flow, minlength=fn.n_nodes
    )
    want = np.zeros(fn.n_nodes)
    want[0], want[1] = fn.supply, -fn.supply
    return bool(np.array_equal(balance, want))


@numba.njit(cache=True)
def _forward_index(n: int, tails: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
def _backward_lists(n: int, heads: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The arcs with flow into each node, as linked lists (``back_first[v]``, then
    ``back_next[e]``; -1 ends a list): the backward residual arcs leaving ``v``. Only arcs
    with flow are listed (most arcs carry none); :func:`_add_flow` keeps the lists."""
    back_first = np.full(n, -1, dtype=np.int64)
    back_next = np.full(len(heads), -2, dtype=np.int64)  # -2: not in a list
    for e in range(len(heads)):
        if flow[e] > 0:
            back_next[e] = back_first[heads[e]]
            back_first[heads[e]] = e
    return back_first, back_next


@numba.njit(cache=True)
def _add_flow(
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
def _bellman_ford(
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
            return _GAVE_UP
        if changes >= n:
            changes = 0
            if _has_cycle(parent):
                return _NEGATIVE_CYCLE
    return _OK


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
def _shortest_paths(
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
    deficit. (The heap and the arc tests are written out in the loops: numba does not
    inline calls that take arrays, and a call per arc doubled the time.)"""
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
    a maximum flow by Dinic's method (breadth-first levels from the excesses, then
    depth-first paths that go one level down at each arc). Flow on admissible arcs keeps
    every reduced cost non-negative."""
    n = len(pot)
    m = len(tails)
    level = np.full(n, -1, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    via = np.empty(n, dtype=np.int64)  # the arc into stack[i] (+ m: backward)
    at_k = np.empty(n, dtype=np.int64)  # each node's current forward arc
    at_e = np.empty(n, dtype=np.int64)  # and current backward arc
    while True:
        # levels from the excesses over admissible arcs; paths end at the first deficit
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
        if deficit:
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
                            _add_flow(e, amount, heads, flow, back_first, back_next)
                        else:
                            _add_flow(e - m, -amount, heads, flow, back_first, back_next)
                    excess[s] -= amount
                    excess[t] += amount
        for i in range(size):
            level[queue[i]] = -1
        if not deficit:
            return
