"""Worker processes for the independent parts, forked from a server that has the solver loaded.

Starting a worker from nothing (``spawn``) costs about a second on this machine: Python, then
numpy, OR-Tools and the compiled re-plan kernels (:mod:`planner.allocation.warm`). A
``forkserver`` pays that once: the server process imports :mod:`planner.allocation.preload`
when it starts, and every worker is a fork of it, ready at once. :func:`start` starts the
server early (``planner plan`` and the API's job worker do so before they read the
scenario), so that the solve finds it running; otherwise the first solve starts it.
Where there is no ``forkserver`` (Windows), workers are spawned.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext

PRELOAD = "planner.allocation.preload"


def context() -> BaseContext:
    """The start method for the solver's worker processes."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([PRELOAD])
    return ctx


def start() -> None:
    """Start the fork server now (in the background; it loads the solver on its own)."""
    ctx = context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()
