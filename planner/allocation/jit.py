"""The numba kernels of the re-plan (:mod:`planner.allocation.flow_kernels`) compiled ahead
(:func:`compile_kernels`), so that the first re-plan in a worker does not wait for them;
:mod:`planner.preload` runs it when the workers' fork server starts."""

from __future__ import annotations

import numpy as np

from planner.allocation.flow_kernels import (
    backward_lists,
    bellman_ford,
    forward_index,
    shortest_paths,
)
from planner.allocation.warm import SEARCH_BUDGET


def compile_kernels() -> None:
    """Compile (or load from the disk cache) every kernel, on a network of three nodes."""
    tails = np.asarray([0, 1], dtype=np.int32)
    heads = np.asarray([1, 2], dtype=np.int32)
    caps = np.ones(2, dtype=np.int64)
    flow = np.zeros(2, dtype=np.int64)
    cost = np.zeros(2, dtype=np.int64)
    first, out = forward_index(3, tails)
    back_first, back_next = backward_lists(3, heads, flow)
    residual = (first, out, back_first, back_next, tails, heads)
    pot = np.zeros(3, dtype=np.int64)
    bellman_ford(*residual, caps, flow, cost, pot, SEARCH_BUDGET)
    excess = np.asarray([1, 0, -1], dtype=np.int64)
    shortest_paths(*residual, caps, flow, cost, pot, excess)
