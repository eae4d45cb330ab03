"""The solvers' worker processes are :mod:`planner.workers`; this name is kept for the early
``workers.start()`` of ``api/services.py`` and ``api/jobs.py`` until they call
:func:`planner.workers.start` themselves."""

from planner.workers import start

__all__ = ["start"]
