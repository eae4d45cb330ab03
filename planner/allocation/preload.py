"""Loaded by the solver's fork server (:mod:`planner.allocation.workers`) when it starts, so
that every worker forked from it has the solver imported and the re-plan kernels compiled."""

from planner.allocation import solver as _solver  # noqa: F401
from planner.allocation.warm import warm_up

warm_up()
