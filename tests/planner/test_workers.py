"""The one place tasks run (planner.workers): order, where they run, choosing, and cleanup."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner import workers
from planner.cluster import DaskCluster
from tests.support.paths import REPO
from tests.support.processes import session_processes, slow_square


def test_results_come_in_the_order_of_the_tasks_from_other_processes() -> None:
    # the first task finishes last, so the order cannot come from completion
    tasks = [(x, 0.6 if x == 0 else 0.0) for x in range(6)]
    results = workers.map_tasks(slow_square, tasks, 2)
    assert [r for r, _ in results] == [x * x for x in range(6)]
    assert os.getpid() not in {pid for _, pid in results}


def test_one_worker_or_one_task_runs_in_this_process() -> None:
    one_worker = workers.map_tasks(slow_square, [(2, 0.0), (3, 0.0)], 1)
    one_task = workers.map_tasks(slow_square, [(4, 0.0)], 2)
    assert one_worker == [(4, os.getpid()), (9, os.getpid())]
    assert one_task == [(16, os.getpid())]
    assert workers.map_tasks(slow_square, [], 2) == []


def _in_daemon(queue: multiprocessing.Queue) -> None:
    queue.put((os.getpid(), workers.map_tasks(slow_square, [(2, 0.0), (3, 0.0)], 2)))


def test_a_daemonic_process_runs_the_tasks_itself() -> None:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    daemon = ctx.Process(target=_in_daemon, args=(queue,), daemon=True)
    daemon.start()
    pid, results = queue.get(timeout=60)
    daemon.join(timeout=10)
    assert results == [(4, pid), (9, pid)]


def test_the_scheduler_is_chosen_by_name() -> None:
    before = workers.use("processes:1")
    try:
        assert workers.parallelism(4, 10) == 1
        assert workers.default_workers() == 1
        workers.use("processes:3")
        assert workers.parallelism(8, 10) == 3 and workers.parallelism(8, 2) == 2
        assert workers.map_tasks(slow_square, [(5, 0.0)], 3) == [(25, os.getpid())]
        workers.use("local")
        assert workers.default_workers() == (os.cpu_count() or 1)
        # Dask: a LocalCluster of N workers, or a scheduler's address (connected on first use)
        cluster, remote = workers.parse("local:3"), workers.parse("tcp://scheduler:8786")
        assert isinstance(cluster, DaskCluster) and (cluster.address, cluster.workers) == (None, 3)
        assert isinstance(remote, DaskCluster) and remote.address == "tcp://scheduler:8786"
        for bad in ("local:0", "local:x", "processes:0", "dask", "tcp://", ""):
            with pytest.raises(ValueError, match="expected 'local', 'processes:N', 'local:N'"):
                workers.use(bad)
    finally:
        workers.use(before)


def test_a_scheduler_is_used_inside_the_block_only() -> None:
    before = workers.current()
    with workers.using("processes:1") as chosen:
        assert workers.current() is chosen and workers.default_workers() == 1
    assert workers.current() is before
    with pytest.raises(RuntimeError, match="inside"), workers.using("processes:2"):
        raise RuntimeError("inside")
    assert workers.current() is before


def test_the_environment_names_the_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(workers.ENV, raising=False)
    assert isinstance(workers.from_environment(), workers.LocalProcesses)
    monkeypatch.setenv(workers.ENV, "tcp://scheduler.example:8786")
    chosen = workers.from_environment()
    assert isinstance(chosen, DaskCluster) and chosen.address == "tcp://scheduler.example:8786"


def test_progress_counts_each_task_once_in_this_process_and_in_others() -> None:
    for n in (1, 2):
        seen: list[tuple[str, int, int]] = []
        with workers.progress(lambda *x, seen=seen: seen.append(x)), workers.recording() as rec:
            workers.map_tasks(slow_square, [(x, 0.0) for x in range(4)], n, label="sq")
        assert seen == [("sq", k, 4) for k in range(5)]
        assert sorted(t.index for t in rec.of("sq")) == [0, 1, 2, 3]


REQUESTER = """
import time
from planner import workers
from tests.support.processes import slow_square
workers.map_tasks(slow_square, [(1, 120.0), (2, 120.0)], 2)
"""


def test_workers_exit_when_the_process_that_asked_for_them_is_gone() -> None:
    """A worker forked from the fork server is no child of the process that asked for it:
    it must not solve on for nobody once that process is killed."""
    requester = subprocess.Popen(
        [sys.executable, "-c", REQUESTER], cwd=REPO, start_new_session=True
    )
    try:
        end = time.monotonic() + 60
        # the requester, the fork server, the resource tracker and two workers
        while len(session_processes(requester.pid)) < 5:
            assert time.monotonic() < end, session_processes(requester.pid)
            time.sleep(0.2)
    finally:
        requester.kill()
        requester.wait()
    end = time.monotonic() + 15
    while session_processes(requester.pid):
        assert time.monotonic() < end, f"left running: {session_processes(requester.pid)}"
        time.sleep(0.2)


_SPAWNED_BY_A_LARGE_PROCESS = """
import multiprocessing
from planner import workers

def peak():
    return workers._timed(len, "task").peak_rss

if __name__ == "__main__":
    ballast = b"x" * 1_000_000_000  # written, so resident
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        child = pool.apply(peak)
    print(workers._peak_rss(), child)
"""


def test_a_spawned_worker_reports_its_own_peak_memory_not_its_parents(tmp_path: Path) -> None:
    # A Dask nanny spawns its worker from the process that holds the data; ru_maxrss
    # carries the parent's peak across exec, and reported 3-5 GB per Dask worker.
    script = tmp_path / "spawner.py"
    script.write_text(_SPAWNED_BY_A_LARGE_PROCESS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=REPO,
    )
    parent, child = map(int, done.stdout.split())
    assert parent > 1_000_000_000
    assert 0 < child < parent - 500_000_000
