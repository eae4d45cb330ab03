"""Tasks on a Dask distributed cluster: the :class:`~planner.workers.Scheduler` for national
scale.

:class:`DaskCluster` runs the tasks of :func:`planner.workers.map_tasks` (the routing's
counties, the allocation's independent parts, a sweep's variants) as Dask tasks, either on an
existing cluster (``tcp://HOST:8786``: a ``dask scheduler`` and ``dask worker`` processes
on machines where this package is installed) or on a ``LocalCluster`` of ``N`` worker
processes that it starts on this machine (``local:N``). A worker process runs one task at a
time (one thread: the solvers are single-threaded, CPU-bound Python and OR-Tools) and
imports the solvers when it starts (:mod:`planner.preload`, as the local fork server does).

What a task is sent is its own arguments only: the routing sends each county's
sub-problem (:meth:`~planner.routing.problem.RoutingProblem.subset`), never the whole problem.
At most ``workers`` tasks are in flight at once, the next submitted as one finishes, so a
smaller ``workers`` than the cluster has threads is kept, as on the local pool.

Faults: a worker that dies (killed, out of memory, its machine gone) takes its running task
with it; the Dask scheduler runs that task again on another worker (up to
``distributed.scheduler.allowed-failures`` times, 3 by default). Tasks are pure functions of
their arguments and write nothing: only the requesting process collects the results, once
per task, in task order, and writes them. A scheduler that cannot be reached within
``connect_timeout`` seconds raises :class:`SchedulerUnreachable` naming its address.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

Task = tuple[Any, ...]
"""The arguments of one call of a task function (as :data:`planner.workers.Task`)."""

Done = Callable[[int], None]
"""Called with a task's index when its result is in (as :data:`planner.workers.Done`)."""

PRELOAD = ("planner.preload",)
"""Modules a worker imports when it starts (as :data:`planner.workers.PRELOAD`; this module
imports nothing from :mod:`planner.workers`, which imports it on demand)."""

WORKER_CONFIG_FILE = Path(__file__).with_name("dask-worker.yaml")
"""Dask settings for the workers that run the planner's tasks: today, the nanny's
``MALLOC_TRIM_THRESHOLD_=65536`` unset. With it, glibc hands memory back to the system after
almost every large free, and the routing searches (many short-lived allocations in OR-Tools)
ran 4-8% slower, measured on the province tier (docs/scale.md). A ``LocalCluster`` started
here uses the file (:func:`worker_config`); the workers of a remote cluster read it from
Dask's config path (``DASK_CONFIG``), as the file's comment says."""


def worker_config() -> dict[str, Any]:
    """The settings of :data:`WORKER_CONFIG_FILE` as ``dask.config.set`` keys (dotted paths
    to the leaves), so that setting them changes nothing else of Dask's configuration."""
    import yaml

    def leaves(tree: Any, path: str) -> Iterator[tuple[str, Any]]:
        if isinstance(tree, dict):
            for key, sub in tree.items():
                yield from leaves(sub, f"{path}.{key}" if path else str(key))
        else:
            yield path, tree

    return dict(leaves(yaml.safe_load(WORKER_CONFIG_FILE.read_text("utf-8")), ""))


log = logging.getLogger(__name__)

T = TypeVar("T")

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a scheduler's answer before :class:`SchedulerUnreachable`."""


class SchedulerUnreachable(ConnectionError):
    """The Dask scheduler at an address did not answer."""

    def __init__(self, address: str, timeout: float, cause: str) -> None:
        self.address = address
        super().__init__(
            f"cannot reach the Dask scheduler at {address} (no answer within {timeout:g} s: "
            f"{cause}); start one there with `dask scheduler` and workers with "
            f"`dask worker {address} --preload planner.preload`, or choose --scheduler local:N"
        )


@dataclass(eq=False)
class DaskCluster:
    """A Dask cluster as the scheduler of :func:`planner.workers.map_tasks`.

    Attributes
    ----------
    address : str or None
        A running scheduler (``tcp://HOST:8786``); ``None``: start a ``LocalCluster`` here.
    workers : int
        Worker processes of the ``LocalCluster`` (ignored with ``address``).
    connect_timeout : float
        Seconds to wait for the scheduler at ``address``.
    preload : tuple of str
        Modules every worker of the ``LocalCluster`` imports when it starts.
    """

    address: str | None = None
    workers: int = 2
    connect_timeout: float = CONNECT_TIMEOUT
    preload: tuple[str, ...] = PRELOAD
    _client: Any = field(default=None, init=False, repr=False)
    _cluster: Any = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __str__(self) -> str:
        return self.address or f"local:{self.workers}"

    # the cluster ----------------------------------------------------------------------------

    def client(self) -> Any:
        """The ``distributed.Client``, connected (or the ``LocalCluster`` started) on first
        use.

        Raises
        ------
        SchedulerUnreachable
            When the scheduler at :attr:`address` does not answer in time.
        """
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self) -> Any:
        import dask
        from distributed import Client, LocalCluster

        # distributed logs its start and stop at INFO on its own handler: follow this
        # process's logging level instead (the command line's --verbose)
        logging.getLogger("distributed").setLevel(
            max(logging.getLogger().getEffectiveLevel(), logging.INFO)
        )
        if self.address is None:
            # the workers' settings; the nanny would also leave its MALLOC_TRIM_THRESHOLD_ in
            # this process's environment, where a fork server started later inherits it
            with dask.config.set(worker_config()):
                cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    silence_logs=logging.ERROR,
                    preload=list(self.preload),
                )
            self._cluster = cluster
            client = Client(cluster)
            log.info("started a Dask LocalCluster of %d workers: %s", self.workers, cluster)
            return client
        try:
            client = Client(self.address, timeout=self.connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise SchedulerUnreachable(self.address, self.connect_timeout, str(exc)) from None
        log.info("connected to the Dask scheduler at %s", self.address)
        return client

    def threads(self) -> int:
        """Tasks the cluster runs at once: its workers' threads (at least 1)."""
        info = self.client().scheduler_info()
        return max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))

    def worker_pids(self) -> dict[str, int]:
        """The process id of every worker, by worker address."""
        import os

        return dict(self.client().run(os.getpid))

    def close(self) -> None:
        """Disconnect, and stop the ``LocalCluster`` this scheduler started."""
        with self._lock:
            client, cluster = self._client, self._cluster
            self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def __enter__(self) -> DaskCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # the Scheduler protocol ------------------------------------------------------------------

    def default_workers(self) -> int:
        return self.threads()

    def parallelism(self, workers: int, n_tasks: int) -> int:
        return max(1, min(workers, n_tasks))

    def start(self) -> None:
        self.client()

    def dashboard(self) -> str | None:
        link = self.client().dashboard_link
        return str(link) if link else None

    def map(
        self, fn: Callable[..., T], tasks: Sequence[Task], workers: int, done: Done | None = None
    ) -> list[T]:
        from distributed import as_completed

        if not tasks:
            return []
        client = self.client()
        n = self.parallelism(workers, len(tasks))
        batch = uuid.uuid4().hex[:12]
        name = getattr(fn, "__name__", "task")
        results: list[Any] = [None] * len(tasks)
        index: dict[str, int] = {}
        queue = iter(enumerate(tasks))
        running = as_completed()

        def submit_next() -> None:
            step = next(queue, None)
            if step is not None:
                i, task = step
                future = client.submit(fn, *task, key=f"{name}-{batch}-{i}", pure=False)
                index[future.key] = i
                running.add(future)

        for _ in range(n):
            submit_next()
        try:
            for future in running:
                i = index[future.key]
                results[i] = future.result()  # a task's exception is raised here
                future.release()
                if done is not None:
                    done(i)
                submit_next()
        except BaseException:
            for future in list(running.futures):
                future.cancel()
            raise
        return results
