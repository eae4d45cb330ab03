"""Tasks on a Dask cluster (planner.cluster): the same results as the local processes, each
routing task with its county's data only, a worker killed mid-run, an unreachable scheduler."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import planner
from planner import workers
from planner.cluster import WORKER_CONFIG_FILE, DaskCluster, SchedulerUnreachable
from planner.routing.problem import RoutingProblem
from planner.routing.solver import SolveOptions, solve_routing
from tests.support.processes import slow_square
from tests.support.route_checker import check_routes

TRIM = "MALLOC_TRIM_THRESHOLD_"
TRIM_BEFORE = os.environ.get(TRIM)
"""This process's setting before any cluster of this module started."""


def _trim_setting() -> str | None:
    """The worker's own setting (``client.run(os.environ.get, ...)`` would send a copy of
    this process's environment along with the bound method)."""
    return os.environ.get(TRIM)


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskCluster]:
    """A LocalCluster of 2 worker processes, shared by the tests of this module."""
    with DaskCluster(workers=2) as c:
        c.start()
        yield c


@pytest.fixture(scope="module")
def small_routing() -> RoutingProblem:
    """Huaihua's five smallest counties: five independent county tasks of a few seconds."""
    sc = planner.read_scenario("builtin:huaihua-screening").data
    p = RoutingProblem.from_scenario(sc)
    counties, sizes = np.unique(p.stop_county, return_counts=True)
    keep = counties[np.argsort(sizes, kind="stable")[:5]]
    return p.subset(
        np.flatnonzero(np.isin(p.station_county, keep)),
        np.flatnonzero(np.isin(p.stop_county, keep)),
    )


OPTIONS = SolveOptions(time_limit=600.0, seed=3, workers=2, proof_seconds=0.0)
"""A time limit no county reaches, so the routes are reproducible (the solver's docstring)."""


def _same_routes(a: planner.routing.result.RoutingResult, b: object) -> None:
    for field in ("routes", "visits"):
        x, y = getattr(a, field), getattr(b, field)
        for name in x.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name), err_msg=name)
    np.testing.assert_array_equal(a.served, b.served)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(a.reason, b.reason)  # type: ignore[attr-defined]


def test_tasks_run_on_the_cluster_in_order_with_progress(cluster: DaskCluster) -> None:
    seen: list[tuple[str, int, int]] = []
    with (
        workers.using(cluster),
        workers.progress(lambda *x: seen.append(x)),
        workers.recording() as rec,
    ):
        # the first task finishes last: the order cannot come from completion
        out = workers.map_tasks(
            slow_square, [(x, 1.0 if x == 0 else 0.0) for x in range(5)], 2, label="sq"
        )
    assert [r for r, _ in out] == [x * x for x in range(5)]
    pids = set(cluster.worker_pids().values())
    assert {pid for _, pid in out} <= pids and os.getpid() not in pids
    assert seen == [("sq", k, 5) for k in range(6)]
    assert sorted(t.index for t in rec.of("sq")) == list(range(5))
    assert all(t.peak_rss > 0 and t.bytes_sent > 0 for t in rec.tasks)
    assert cluster.dashboard() is not None and cluster.dashboard().startswith("http")


def test_local_workers_allocate_memory_as_the_local_processes_do(cluster: DaskCluster) -> None:
    # a nanny's default MALLOC_TRIM_THRESHOLD_ made the routing searches slower; it must reach
    # neither the workers nor (through the nanny) this process, whose fork server inherits it
    seen = cluster.client().run(_trim_setting)
    assert len(seen) == 2 and set(seen.values()) == {TRIM_BEFORE}
    assert os.environ.get(TRIM) == TRIM_BEFORE


def test_routing_on_the_cluster_is_the_local_routing_and_sends_each_county_alone(
    cluster: DaskCluster, small_routing: RoutingProblem
) -> None:
    p = small_routing
    local = solve_routing(p, OPTIONS)
    with workers.using(cluster), workers.recording() as rec:
        remote = solve_routing(p, OPTIONS)
    assert all("time cap" not in s.status for s in local.subproblems)
    _same_routes(local, remote)
    assert check_routes(p, remote) == []
    # one task per county, each with that county's rows only: its bytes are those of the
    # county's own sub-problem, a fraction of the whole problem's
    whole = len(pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL))
    counties = rec.of("county")
    assert len(counties) == len(set(p.stop_county.tolist())) == 5
    for c in p.stop_county.tolist():
        sub = p.subset(np.flatnonzero(p.station_county == c), np.flatnonzero(p.stop_county == c))
        assert len(pickle.dumps(sub, protocol=pickle.HIGHEST_PROTOCOL)) < whole / 2
    assert max(t.bytes_sent for t in counties) < whole / 2
    workers_used = {t.worker for t in counties}
    assert len(workers_used) == 2 and all(str(os.getpid()) not in w for w in workers_used)


def test_allocation_on_the_cluster_is_the_local_allocation(cluster: DaskCluster) -> None:
    sc = planner.read_scenario("builtin:western-2006")
    params = planner.AllocationParams(time_limit=300.0, workers=2)
    local = planner.allocate(sc, params)
    with workers.using(cluster), workers.recording() as rec:
        remote = planner.allocate(sc, params)
    assert len(rec.of("part")) >= 2  # the independent parts ran as cluster tasks
    assert remote.optimal and local.optimal
    assert remote.objective == pytest.approx(local.objective, abs=1e-6)
    cols = ["applicant_id", "post_id"]
    assert remote.assignments[cols].equals(local.assignments[cols])


@pytest.mark.slow
def test_a_cluster_started_as_the_docs_say_runs_the_routing_by_address(
    small_routing: RoutingProblem, tmp_path: Path
) -> None:
    """A ``dask scheduler`` and a ``dask worker`` started with the commands of docs/scale.md
    (the worker with ``--preload planner.preload`` and ``DASK_CONFIG`` at the planner's
    worker settings), reached by its address as ``--scheduler tcp://...`` does: the counties
    run in the worker's processes, the routes are the local run's, and the nanny's malloc
    setting has not reached the workers."""
    p = small_routing
    local = solve_routing(p, OPTIONS)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, DASK_CONFIG=str(WORKER_CONFIG_FILE))
    env.pop(TRIM, None)
    commands = [
        ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
        ["worker", address, "--nworkers", "2", "--nthreads", "1", "--preload", "planner.preload"],
    ]
    with (tmp_path / "dask.log").open("w") as log:
        started = [
            subprocess.Popen([sys.executable, "-m", "dask", *c], env=env, stdout=log, stderr=log)
            for c in commands
        ]
        try:
            scheduler = workers.parse(address)
            assert isinstance(scheduler, DaskCluster)
            scheduler.connect_timeout = 60.0
            with scheduler as c:
                client = c.client()
                client.wait_for_workers(2, timeout=120)
                assert set(client.run(_trim_setting).values()) == {None}
                with workers.using(c), workers.recording() as rec:
                    remote = solve_routing(p, OPTIONS)
                pids = {str(pid) for pid in c.worker_pids().values()}
        finally:
            for proc in reversed(started):
                proc.terminate()
                proc.wait(timeout=60)
    _same_routes(local, remote)
    assert check_routes(p, remote) == []
    counties = rec.of("county")
    assert len(counties) == 5 and {t.worker.rsplit(":", 1)[1] for t in counties} <= pids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_scheduler_is_named_within_the_timeout() -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    scheduler = workers.parse(address)
    assert isinstance(scheduler, DaskCluster)
    scheduler.connect_timeout = 2.0
    t0 = time.monotonic()
    with pytest.raises(SchedulerUnreachable, match=address.replace(".", r"\.")):
        scheduler.map(slow_square, [(1, 0.0)], 1)
    assert time.monotonic() - t0 < 30


@pytest.mark.slow
def test_a_worker_killed_mid_run_has_its_task_run_again(small_routing: RoutingProblem) -> None:
    """Kill one of two worker processes by its pid once it has a county task: the county
    runs again elsewhere, and the routes are those of the local run, each county's result
    taken once."""
    p = small_routing
    local = solve_routing(p, OPTIONS)
    killed = threading.Event()
    stop = threading.Event()
    with DaskCluster(workers=2) as c:
        c.start()
        address, pid = sorted(c.worker_pids().items())[0]
        client = c.client()

        def kill_when_busy() -> None:
            while not stop.is_set():
                if client.processing().get(address):
                    os.kill(pid, signal.SIGKILL)
                    killed.set()
                    return
                time.sleep(0.02)

        watcher = threading.Thread(target=kill_when_busy, daemon=True)
        watcher.start()
        finished: list[int] = []
        try:
            with (
                workers.using(c),
                workers.recording() as rec,
                workers.progress(lambda _, d, n: finished.append(d)),
            ):
                remote = solve_routing(p, OPTIONS)
        finally:
            stop.set()
            watcher.join(timeout=5)
        assert killed.is_set()
        assert pid not in c.worker_pids().values()  # the nanny started a new process
    _same_routes(local, remote)
    assert check_routes(p, remote) == []
    # every county's result came in once: progress counted each once, the records too
    assert finished == list(range(6))
    assert sorted(t.index for t in rec.of("county")) == list(range(5))
