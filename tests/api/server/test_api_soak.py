"""The soak benchmark in a short form (20 s): 20 clients read results while 2 plan jobs run;
no read fails, no job fails, the server's memory grows by less than 10%."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.api import write_crewed_tiny
from tests.support.paths import REPO

pytestmark = pytest.mark.slow  # runs only in `make test`

SCRIPT = REPO / "benchmarks" / "api_soak.py"


def test_short_soak(tmp_path: Path) -> None:
    scenario = write_crewed_tiny(tmp_path / "crewed")
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--scenario", str(scenario), "--seconds", "20",
         "--warmup", "5", "--json", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert out.is_file(), done.stdout + done.stderr
    result = json.loads(out.read_text())
    rows = {r["request"]: r for r in result["rows"]}
    assert set(rows) == {"summary", "assignments", "map", "all"}
    for kind in ("summary", "assignments", "map"):
        assert rows[kind]["reads"] > 20, rows[kind]
        assert rows[kind]["errors"] == 0 and set(rows[kind]["statuses"]) == {"200"}, rows[kind]
    assert rows["all"]["reads"] == sum(rows[k]["reads"] for k in ("summary", "assignments", "map"))
    assert rows["all"]["p50 ms"] <= rows["all"]["p95 ms"] <= rows["all"]["p99 ms"]
    jobs = result["jobs"]
    assert jobs["failed"] == [] and jobs["started"] >= 2, jobs
    assert jobs["running_share"] > 0.5, jobs  # two jobs ran for most of the run
    memory = result["memory_mib"]
    assert memory["growth"] < 0.10, memory
    assert done.returncode == 0, done.stdout[-3000:]
