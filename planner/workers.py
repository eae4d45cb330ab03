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
- :class:`planner.cluster.DaskCluster`: tasks on a Dask distributed cluster, an existing one
  (``tcp://HOST:8786``) or a ``LocalCluster`` of ``N`` worker processes started here
  (``local:N``). :func:`use` chooses the scheduler of this process (``"local"``,
  ``"processes:N"``, ``"local:N"``, ``"tcp://HOST:PORT"`` or a :class:`Scheduler`);
  :func:`from_environment` reads ``PLANNER_DASK_SCHEDULER``.

Every task runs through :func:`_timed`, which returns its result with the task's seconds,
its worker and the worker's peak memory, so that the caller can show progress
(:func:`progress`: counties or variants done of total) and a benchmark can record what every
task cost (:func:`recording`: seconds, bytes sent, peak memory), whichever scheduler ran it.

:func:`start` starts the scheduler's workers early, in the background: ``planner plan``
and the API's job worker call it before they read the scenario, so that the fork server
has loaded the solvers by the time the first task comes; otherwise the first
:func:`map_tasks` starts it and waits for it.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")

Task = tuple[Any, ...]
"""The arguments of one call of a task function."""

PRELOAD = ("planner.preload",)
"""Modules the fork server imports when it starts (:mod:`planner.preload`)."""

ENV = "PLANNER_DASK_SCHEDULER"
"""The environment variable naming the scheduler (``tcp://HOST:8786`` or ``local:N``)."""

Done = Callable[[int], None]
"""Called in the requesting process with a task's index as soon as its result is in."""

Progress = Callable[[str, int, int], None]
"""Called with (label, tasks done, tasks in all) as tasks finish (see :func:`progress`)."""


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

    def map(
        self, fn: Callable[..., T], tasks: Sequence[Task], workers: int, done: Done | None = None
    ) -> list[T]:
        """``fn(*task)`` for every task, up to ``workers`` at once, results in task order.
        ``fn`` is a top-level function and the tasks pickleable; an exception of a task is
        raised here. ``done(i)`` is called here when task ``i``'s result is in (each index
        once, even when a task had to run again on another worker)."""
        ...

    def dashboard(self) -> str | None:
        """Where to watch the tasks run (the Dask dashboard), or ``None``."""
        ...

    def close(self) -> None:
        """Release the workers this scheduler started (a cluster's; a no-op for the local
        processes, which end with their pool)."""
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

    def map(
        self, fn: Callable[..., T], tasks: Sequence[Task], workers: int, done: Done | None = None
    ) -> list[T]:
        n = self.parallelism(workers, len(tasks))
        results: list[Any] = [None] * len(tasks)
        if n <= 1:
            for i, task in enumerate(tasks):
                results[i] = fn(*task)
                if done is not None:
                    done(i)
            return results
        with ProcessPoolExecutor(
            n, mp_context=self.context(), initializer=_serve, initargs=(os.getpid(),)
        ) as pool:
            index = {pool.submit(fn, *task): i for i, task in enumerate(tasks)}
            pending = set(index)
            try:
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in sorted(finished, key=index.__getitem__):
                        results[index[future]] = future.result()
                        if done is not None:
                            done(index[future])
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        return results

    def dashboard(self) -> str | None:
        return None

    def close(self) -> None:
        return None


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
    """Run this process's tasks on ``scheduler`` from now on; returns the one used before
    (which stays open: :meth:`Scheduler.close` it when done with it).

    Parameters
    ----------
    scheduler : Scheduler or str
        A :class:`Scheduler`, or by name: ``"local"`` (a process per core, the default),
        ``"processes:N"`` (at most ``N`` local processes), ``"local:N"`` (a Dask
        ``LocalCluster`` of ``N`` worker processes, started on first use) or the address of
        a Dask scheduler (``"tcp://HOST:8786"``; connected on first use).

    Raises
    ------
    ValueError
        For any other string.
    """
    global _current
    previous = _current
    _current = parse(scheduler) if isinstance(scheduler, str) else scheduler
    return previous


@contextmanager
def using(scheduler: Scheduler | str) -> Iterator[Scheduler]:
    """Run this process's tasks on ``scheduler`` (as :func:`use`) inside the block, then on
    the one used before again; yields the scheduler in use. Closes neither of them."""
    chosen = parse(scheduler) if isinstance(scheduler, str) else scheduler
    previous = use(chosen)
    try:
        yield chosen
    finally:
        use(previous)


DASK_PROTOCOLS = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")
"""Address prefixes of a Dask scheduler."""


def parse(spec: str) -> Scheduler:
    """The scheduler a name asks for (see :func:`use`).

    Raises
    ------
    ValueError
        When ``spec`` is none of the accepted forms.
    """
    spec = spec.strip()
    kind, _, count = spec.partition(":")
    if spec == "local":
        return LocalProcesses()
    if kind == "processes" and count.isdigit() and int(count) >= 1:
        return LocalProcesses(processes=int(count))
    if kind == "local" and count.isdigit() and int(count) >= 1:
        from planner.cluster import DaskCluster

        return DaskCluster(workers=int(count))
    if spec.startswith(DASK_PROTOCOLS) and len(spec.split("://", 1)[1]) > 0:
        from planner.cluster import DaskCluster

        return DaskCluster(address=spec)
    raise ValueError(
        f"scheduler {spec!r}; expected 'local', 'processes:N', 'local:N' (a Dask LocalCluster "
        "of N workers) or a Dask scheduler's address such as 'tcp://HOST:8786', with N >= 1"
    )


def from_environment(default: str = "local") -> Scheduler:
    """The scheduler :data:`ENV` (``PLANNER_DASK_SCHEDULER``) names, else ``default``."""
    return parse(os.environ.get(ENV, "").strip() or default)


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


@dataclass(frozen=True, slots=True)
class TaskOutcome(Generic[T]):
    """A task's result and what it cost, measured where it ran (:func:`_timed`)."""

    result: T
    seconds: float
    worker: str
    """``host:pid`` of the process that ran it."""
    peak_rss: int
    """The worker process's peak resident memory in bytes, after the task."""


def _peak_rss() -> int:
    """This process's peak resident memory in bytes (0 where the platform does not say).

    On Linux it is ``VmHWM`` of ``/proc/self/status``: the peak of this program's own
    memory. ``ru_maxrss`` is not, there: it keeps the peak of the process image before
    ``exec``, so a worker spawned by a large process (a Dask nanny inside the benchmark
    holding the national tier) would report its parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows
        return 0
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(kb) * (1 if os.uname().sysname == "Darwin" else 1024)


def _timed(fn: Callable[..., T], *task: Any) -> TaskOutcome[T]:
    """``fn(*task)`` with its seconds, worker and peak memory: what every task runs as."""
    t0 = time.perf_counter()
    result = fn(*task)
    seconds = time.perf_counter() - t0
    return TaskOutcome(result, seconds, f"{socket.gethostname()}:{os.getpid()}", _peak_rss())


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """What one task of :func:`map_tasks` cost (kept while :func:`recording`)."""

    label: str
    index: int
    seconds: float
    worker: str
    peak_rss: int
    bytes_sent: int
    """Size of the pickled task (its function's name and its arguments)."""


@dataclass(slots=True)
class Recording:
    """The :class:`TaskRecord` of every task run while :func:`recording`, in finishing
    order per call."""

    tasks: list[TaskRecord] = field(default_factory=list)
    scheduler: str = ""

    def of(self, label: str) -> list[TaskRecord]:
        """The records of one kind of task (``county``, ``part``, ``variant`` ...)."""
        return [t for t in self.tasks if t.label == label]


_progress: ContextVar[Progress | None] = ContextVar("planner_progress", default=None)
_recording: ContextVar[Recording | None] = ContextVar("planner_recording", default=None)


@contextmanager
def progress(report: Progress) -> Iterator[None]:
    """Call ``report(label, done, total)`` as the tasks of :func:`map_tasks` finish inside
    the block (the command line's progress bars)."""
    token = _progress.set(report)
    try:
        yield
    finally:
        _progress.reset(token)


@contextmanager
def recording() -> Iterator[Recording]:
    """Record the cost of every task run inside the block (benchmarks): its seconds,
    worker, the worker's peak memory and the bytes its arguments took."""
    rec = Recording(scheduler=type(_current).__name__)
    token = _recording.set(rec)
    try:
        yield rec
    finally:
        _recording.reset(token)


def map_tasks(
    fn: Callable[..., T], tasks: Sequence[Task], workers: int, label: str = "task"
) -> list[T]:
    """``fn(*task)`` for every task on the current scheduler, up to ``workers`` at once;
    the results in the order of ``tasks``.

    ``fn`` must be a top-level function and the tasks pickleable (they may run in other
    processes, on other machines). ``label`` names the kind of task for the progress
    display and the records (``county``, ``part``, ``variant``).
    """
    report, rec = _progress.get(), _recording.get()
    total = len(tasks)
    outcomes: list[TaskOutcome[T]] = []
    finished = 0

    def done(i: int) -> None:
        nonlocal finished
        finished += 1
        if report is not None:
            report(label, finished, total)

    if report is not None and total:
        report(label, 0, total)
    outcomes = _current.map(_timed, [(fn, *task) for task in tasks], workers, done)
    if rec is not None:
        for i, (task, out) in enumerate(zip(tasks, outcomes, strict=True)):
            size = len(pickle.dumps((fn, task), protocol=pickle.HIGHEST_PROTOCOL))
            rec.tasks.append(TaskRecord(label, i, out.seconds, out.worker, out.peak_rss, size))
    return [out.result for out in outcomes]
