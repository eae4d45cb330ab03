"""Imported by the fork server of :mod:`planner.workers` when it starts, so that every worker
forked from it has the solvers imported and the re-plan kernels compiled."""

from planner.allocation import solver as _allocation  # noqa: F401
from planner.allocation.jit import compile_kernels
from planner.routing import solver as _routing  # noqa: F401
from planner.routing import vrp as _vrp  # noqa: F401

compile_kernels()
