"""Loading benchmark: our validated loader against a bare pandas read of the same files.

Run: ``.venv/bin/python benchmarks/loading.py [--tiers county,prefecture,province,national]``

For each scale tier it writes the generated scenario once, then times (best of N runs, each in
this process with warm geography):

- ``ours``: ``geodata.scenario.load_scenario`` — every cell parsed and checked, codes and
  points checked against the real county polygons, D1-D7, typed immutable result;
- ``pandas``: ``pandas.read_csv(dtype=str)`` of the same tables, no checks at all (the floor
  a loader cannot beat).

It also times loading the built-in counties in a fresh process (the cached GeoParquet), which
must stay under 1 s, and the national tier's load, which must stay under 10 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata.scenario import load_scenario
from geodata.synth import write_scenario
from geodata.synth.tiers import generate_tier


def _best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _pandas_read(folder: Path) -> None:
    for csv in sorted(folder.glob("*.csv")):
        pd.read_csv(csv, dtype=str, keep_default_na=False)


def _cold_counties_seconds() -> float:
    code = (
        "import time; t=time.perf_counter(); from geodata.china import load_counties; "
        "f=load_counties(); print(time.perf_counter()-t, len(f))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout.split()
    return float(out[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiers", default="county,prefecture,province,national")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    from geodata.china import load_counties

    load_counties()  # make sure the cache exists (first build is not what we time)
    table = Table(title=f"Scenario loading (best of {args.repeat} runs)")
    for col in ("tier", "applicants", "posts", "issues", "ours s", "pandas s", "ratio"):
        table.add_column(col, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for tier in args.tiers.split(","):
            folder = write_scenario(generate_tier(tier), Path(tmp) / tier)
            result = load_scenario(folder)  # warm-up, and the report to show
            assert result.valid, result.report.errors[:5]
            ours = _best(lambda folder=folder: load_scenario(folder), args.repeat)
            bare = _best(lambda folder=folder: _pandas_read(folder), args.repeat)
            s = result.data
            table.add_row(
                tier,
                f"{len(s.applicants) if s.applicants is not None else 0:,}",
                f"{len(s.posts) if s.posts is not None else 0:,}",
                f"{len(result.report.issues)}",
                f"{ours:.2f}",
                f"{bare:.2f}",
                f"{ours / bare:.1f}x",
            )
    console.print(table)
    cold = min(_cold_counties_seconds() for _ in range(3))
    console.print(
        f"built-in counties from the cache in a fresh process: {cold:.2f} s (target < 1 s)"
    )


if __name__ == "__main__":
    main()
