"""The allocation's min-cost-flow network as data: its arcs and the flows on them.

Both the solvers of :mod:`planner.allocation.flow` (OR-Tools from scratch) and of
:mod:`planner.allocation.warm` (shortest paths from a previous plan) take a
:class:`FlowNetwork` and give the flow on each of its arcs; :meth:`FlowNetwork.result` reads
such a flow as a :class:`NetworkFlow`. :class:`Hubs`, :class:`Price` and :class:`GroupCap` are
the optional parts of the network (:mod:`planner.allocation.compact`,
:mod:`planner.allocation.share`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.allocation.problem import AllocationProblem


@dataclass(frozen=True, slots=True)
class Hubs:
    """An optional middle layer: applicant -> hub (one unit) -> post (any number of units).

    Hubs ``0 .. n_county - 1`` lead to posts; hubs from ``n_county`` on (preference hubs)
    lead to those first, on the ``mid`` arcs."""

    n_county: int
    n_pref: int
    in_a: np.ndarray
    in_hub: np.ndarray
    in_cost: np.ndarray
    out_hub: np.ndarray
    out_p: np.ndarray
    out_cost: np.ndarray
    mid_from: np.ndarray
    mid_to: np.ndarray
    mid_cost: np.ndarray

    @property
    def n(self) -> int:
        return self.n_county + self.n_pref


@dataclass(frozen=True, slots=True)
class NetworkFlow:
    """The optimum of the network: its value and the flow on each applicant-side arc."""

    objective: float
    value: float
    """The objective with the price (:class:`Price`) of the placed applicants."""
    direct: np.ndarray
    """Flow on each of the direct (applicant, post) arcs."""
    hub_in: np.ndarray
    hub_out: np.ndarray
    hub_mid: np.ndarray
    from_previous: bool = False
    """Reached from the previous plan (:mod:`planner.allocation.warm`), not from scratch."""


@dataclass(frozen=True, slots=True)
class Price:
    """An extra cost on each applicant's arc (his recruiting province -> him), exact:
    ``numerator[a] / denominator`` objective units. A Lagrangian multiplier of a row over
    applicants (A4) is such a price."""

    numerator: np.ndarray
    denominator: int = 1


@dataclass(frozen=True, slots=True)
class GroupCap:
    """At most ``cap[g]`` of the applicants with ``group[a] == g`` are placed (-1: none)."""

    group: np.ndarray
    cap: np.ndarray


@dataclass(frozen=True, slots=True)
class FlowNetwork:
    """The arcs of :func:`network_flow`'s network, ready for a min-cost flow solver.

    ``solver_costs`` are the integers the solver minimises (the price and the tie-break
    folded in); ``costs`` are the plain objective in ``1 / unit`` units and ``priced`` the
    objective with the price, in ``1 / (unit * den)`` units. Arcs come in blocks; ``offsets``
    delimit them: recruiting provinces, applicants, direct arcs, hub in, hub out, posts,
    buckets, service provinces, the unplaced, preference hubs, groups.
    """

    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray
    solver_costs: np.ndarray
    costs: np.ndarray
    priced: np.ndarray
    unit: int
    den: int
    offsets: np.ndarray
    n_nodes: int
    supply: int
    """Units that leave the source (node 0) for the sink (node 1)."""
    scale: int = 1
    """``solver_costs`` are ``priced`` times this plus the tie-break (1: no tie-break)."""

    def result(
        self, pr: AllocationProblem, f: np.ndarray, from_previous: bool = False
    ) -> NetworkFlow:
        """The flow ``f`` (one value per arc) as the network's plan."""
        o = self.offsets
        return NetworkFlow(
            objective=pr.constant() + int(f @ self.costs) / self.unit,
            value=pr.constant() + int(f @ self.priced) / (self.unit * self.den),
            direct=f[o[2] : o[3]],
            hub_in=f[o[3] : o[4]],
            hub_out=f[o[4] : o[5]],
            hub_mid=f[o[9] : o[10]],
            from_previous=from_previous,
        )
