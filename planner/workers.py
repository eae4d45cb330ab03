"""Where independent tasks run: the one seam between the solvers and their worker processes.

The allocation's independent parts (:mod:`planner.allocation.solver`), the routing's
counties (:mod:`planner.routing.solver`) and the benchmark mode's parallel searches
(:mod:`planner.routing.vrp`) are lists of independent tasks: a top-level function and, per
task, a tuple of pickleable arguments. :func:`map_tasks` runs them and returns their results
in the order of the tasks. Where they run is decided by the :class:`Scheduler` in use:

- :class:`LocalProcesses`, the default: processes on this machine. Where the platform has
  ``forkserver`` (Linux, macOS) they are forked from a server process that imported the
  solvers and loaded the compiled re-plan kernels once (:mod:`planner.preload`), so every
  worker is ready at once: spawning a worker from nothing costs about a second here
  (Python, numpy, OR-Tools and 0.35 s for numba's cache), a third of a re-plan. Elsewhere
  (Windows) workers are spawned. One task, one worker, or a daemonic process (which may not
  start processes) runs the tasks in this process, one after another. A worker exits when
  the process that asked for it is gone (a worker forked from the fork server would
  otherwise solve on for nobody until its task ends).
- Another engine implements :class:`Scheduler` with the same contract (the distributed
  engine of issue 14, chosen by ``--scheduler tcp://...``). :func:`use` chooses the
  scheduler of this process (``"local"``, ``"local:N"`` or a :class:`Scheduler`).

:func:`start` starts the scheduler's workers early, in the background: ``planner plan``
and the API's job worker call it before they read the scenario, so that the fork server
has loaded the solvers by the time the first task comes; otherwise the first
:func:`map_tasks` starts it and waits for it.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

Task = tuple[Any, ...]
"""The arguments of one call of a task function."""

PRELOAD = ("planner.preload",)
"""Modules the fork server imports when it starts (:mod:`planner.preload`)."""


class Scheduler(Protocol):
    """Runs lists of independent tasks: the interface a distributed engine implements."""

    def default_workers(self) -> int:
        """How many tasks run at once when the caller does not say."""
        ...

    def parallelism(self, workers: int, n_tasks: int) -> int:
        """How many of ``n_tasks`` tasks run at once when the caller asks for ``workers``
        (at least 1; 1 means one after another in this process)."""
        ...

    def start(self) -> None:
        """Make the workers ready in the background (it may return before they are)."""
        ...

    def map(self, fn: Callable[..., T], tasks: Sequence[Task], workers: int) -> list[T]:
        """``fn(*task)`` for every task, up to ``workers`` at once, results in task order.
        ``fn`` is a top-level function and the tasks pickleable; an exception of a task is
        raised here."""
        ...


@dataclass(frozen=True, slots=True)
class LocalProcesses:
    """Processes on this machine (see the module docstring).

    Attributes
    ----------
    processes : int or None
        At most this many processes; ``None``: one per core.
    preload : tuple of str
        Modules the fork server imports when it starts. The fork server is one per process
        that starts it: the preload of the first :class:`LocalProcesses` to start it holds.
    """

    processes: int | None = None
    preload: tuple[str, ...] = PRELOAD

    def default_workers(self) -> int:
        return self.processes or os.cpu_count() or 1

    def parallelism(self, workers: int, n_tasks: int) -> int:
        if multiprocessing.current_process().daemon:
            return 1  # a daemonic process may not start processes of its own
        return max(1, min(workers, n_tasks, self.processes or workers))

    def context(self) -> BaseContext:
        """The start method of the workers: ``forkserver`` with :attr:`preload`, else
        ``spawn``."""
        if "forkserver" not in multiprocessing.get_all_start_methods():
            return multiprocessing.get_context("spawn")
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(self.preload))
        return ctx

    def start(self) -> None:
        if self.context().get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()

    def map(self, fn: Callable[..., T], tasks: Sequence[Task], workers: int) -> list[T]:
        n = self.parallelism(workers, len(tasks))
        if n <= 1:
            return [fn(*task) for task in tasks]
        with ProcessPoolExecutor(
            n, mp_context=self.context(), initializer=_serve, initargs=(os.getpid(),)
        ) as pool:
            return list(pool.map(fn, *zip(*tasks, strict=True)))


def _serve(requester: int) -> None:
    """A worker's start: it exits when the process ``requester`` that asked for it is gone
    (on POSIX systems; Windows workers are spawned children of the requester)."""
    if os.name == "posix":
        threading.Thread(target=_exit_with, args=(requester,), daemon=True).start()


def _exit_with(pid: int) -> None:
    """Wait for process ``pid`` to end (a pidfd where Linux has one, else a poll every
    second), then end this process."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = -1
    if fd >= 0:
        select.select([fd], [], [])  # readable when the process has ended
    else:
        while True:
            time.sleep(1.0)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                continue
    os._exit(1)


_current: Scheduler = LocalProcesses()


def use(scheduler: Scheduler | str) -> Scheduler:
    """Run this process's tasks on ``scheduler`` from now on; returns the one used before.

    Parameters
    ----------
    scheduler : Scheduler or str
        A :class:`Scheduler`, ``"local"`` (a process per core) or ``"local:N"`` (at most
        ``N`` processes).

    Raises
    ------
    ValueError
        For any other string.
    """
    global _current
    previous = _current
    _current = _parse(scheduler) if isinstance(scheduler, str) else scheduler
    return previous


def _parse(spec: str) -> Scheduler:
    kind, _, count = spec.partition(":")
    if kind == "local" and not count:
        return LocalProcesses()
    if kind == "local" and count.isdigit() and int(count) >= 1:
        return LocalProcesses(processes=int(count))
    raise ValueError(
        f"scheduler {spec!r}; expected 'local' or 'local:N' with N >= 1 "
        "(a distributed scheduler is not available yet)"
    )


def current() -> Scheduler:
    """The scheduler this process's tasks run on."""
    return _current


def start() -> None:
    """Start the current scheduler's workers now, in the background (the local fork server
    loads the solvers on its own while the caller reads its scenario)."""
    _current.start()


def default_workers() -> int:
    """How many tasks run at once by default (the local default: one per core)."""
    return _current.default_workers()


def parallelism(workers: int, n_tasks: int) -> int:
    """How many of ``n_tasks`` tasks :func:`map_tasks` runs at once for ``workers``."""
    return _current.parallelism(workers, n_tasks)


def map_tasks(fn: Callable[..., T], tasks: Sequence[Task], workers: int) -> list[T]:
    """``fn(*task)`` for every task on the current scheduler, up to ``workers`` at once;
    the results in the order of ``tasks``.

    ``fn`` must be a top-level function and the tasks pickleable (they may run in other
    processes, later on other machines).
    """
    return _current.map(fn, tasks, workers)
