"""Benchmark: building and loading the China geography cache (geodata.china).

Run with ``.venv/bin/python benchmarks/china_load.py``. It measures

* the cold build of the whole cache into a fresh temporary ``WESTPLAN_CACHE_DIR``
  (a new process: import + read ~3,240 GeoJSON files + GCJ-02 -> WGS-84 + write);
* ``load_counties()`` in fresh processes reading that cache (the target is < 1 s);
* the alternative without a cache: reading the 2,875 raw county GeoJSON files with
  pyogrio and with shapely (which would still lack the WGS-84 conversion);
* vertex counts and file sizes, full vs simplified.

The temporary cache is deleted at the end; the user cache is not touched.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LOAD_RUNS = 3
LOAD_TARGET_S = 1.0

_BUILD_SCRIPT = """
import json, time
t0 = time.perf_counter()
from geodata import china
t1 = time.perf_counter()
folder = china.ensure_cache()
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "build": t2 - t1, "folder": str(folder)}))
"""

_LOAD_SCRIPT = """
import json, time
t0 = time.perf_counter()
from geodata import china
t1 = time.perf_counter()
frame = china.load_counties()
t2 = time.perf_counter()
table = china.county_table()
t3 = time.perf_counter()
simple = china.load_counties(simplified=True)
t4 = time.perf_counter()
assert len(frame) == 2875 and len(table) == 2875 and len(simple) == 2875
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "table": t3 - t2, "simplified": t4 - t3,
                  "builds": china._BUILD_COUNT}))
"""


def _run(script: str, cache: Path) -> dict[str, float | str]:
    env = {**os.environ, "WESTPLAN_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float | str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _raw_read_times() -> tuple[float, float, int]:
    import numpy as np
    import pyogrio
    import shapely

    from geodata import china

    index = china._read_index()
    paths = index.loc[index["level"] == "county", "path"].tolist()

    t0 = time.perf_counter()
    frames = [pyogrio.read_dataframe(p) for p in paths]
    t_pyogrio = time.perf_counter() - t0
    assert len(frames) == 2875

    t0 = time.perf_counter()
    texts = [Path(p).read_text(encoding="utf-8") for p in paths]
    geoms = shapely.from_geojson(np.asarray(texts, dtype=object))
    t_shapely = time.perf_counter() - t0
    return t_pyogrio, t_shapely, int(shapely.get_num_coordinates(geoms).sum())


def _vertex_rows(folder: Path) -> list[tuple[str, int, int, int, int]]:
    import geopandas as gpd
    import shapely

    rows = []
    for level in ("counties", "prefectures", "provinces"):
        full_path = folder / f"{level}.parquet"
        simple_path = folder / f"{level}_simplified.parquet"
        full = gpd.read_parquet(full_path).geometry.values
        simple = gpd.read_parquet(simple_path).geometry.values
        rows.append(
            (
                level,
                int(shapely.get_num_coordinates(full).sum()),
                int(shapely.get_num_coordinates(simple).sum()),
                full_path.stat().st_size,
                simple_path.stat().st_size,
            )
        )
    return rows


def _print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text fallback
        print(f"\n{title}")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for r in [header, *rows]:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
        return
    table = Table(title=title)
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i == 0 else "right")
    for r in rows:
        table.add_row(*r)
    Console().print(table)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="westplan-bench-") as tmp:
        cache = Path(tmp)
        print(f"building the cache into {cache} (a fresh process) ...", flush=True)
        t0 = time.perf_counter()
        built = _run(_BUILD_SCRIPT, cache)
        build_wall = time.perf_counter() - t0
        folder = Path(str(built["folder"]))

        loads = [_run(_LOAD_SCRIPT, cache) for _ in range(LOAD_RUNS)]
        assert all(r["builds"] == 0 for r in loads), "a load process rebuilt the cache"
        load_s = [float(r["load"]) for r in loads]
        import_s = [float(r["import"]) for r in loads]
        table_s = [float(r["table"]) for r in loads]
        simple_s = [float(r["simplified"]) for r in loads]

        t_pyogrio, t_shapely, raw_vertices = _raw_read_times()
        vertex_rows = _vertex_rows(folder)

    median_load = statistics.median(load_s)
    timing = [
        ["cold build (fresh process, whole cache)", f"{build_wall:.2f}"],
        ["  of which ensure_cache()", f"{float(built['build']):.2f}"],
        [
            f"import geodata.china (fresh process, median of {LOAD_RUNS})",
            f"{statistics.median(import_s):.3f}",
        ],
        [
            f"load_counties() from cache (fresh process, median of {LOAD_RUNS})",
            f"{median_load:.3f}",
        ],
        ["  slowest of the runs", f"{max(load_s):.3f}"],
        ["county_table() after it (no geometry decode)", f"{statistics.median(table_s):.3f}"],
        ["load_counties(simplified=True) after it", f"{statistics.median(simple_s):.3f}"],
        ["raw county GeoJSON via pyogrio (2,875 files, GCJ-02)", f"{t_pyogrio:.2f}"],
        ["raw county GeoJSON via shapely.from_geojson (GCJ-02)", f"{t_shapely:.2f}"],
        ["ratio pyogrio raw read / cached load", f"{t_pyogrio / median_load:.1f}x"],
        ["ratio shapely raw read / cached load", f"{t_shapely / median_load:.1f}x"],
    ]
    _print_table("China geography: times (s)", ["step", "seconds"], timing)

    sizes = []
    for level, n_full, n_simple, b_full, b_simple in vertex_rows:
        sizes.append(
            [
                level,
                f"{n_full:,}",
                f"{n_simple:,}",
                f"{n_simple / n_full:.1%}",
                f"{b_full / 1e6:.1f}",
                f"{b_simple / 1e6:.1f}",
            ]
        )
    _print_table(
        "Vertices and GeoParquet sizes",
        ["level", "vertices full", "simplified", "kept", "MB full", "MB simplified"],
        sizes,
    )
    print(f"raw county GeoJSON vertices: {raw_vertices:,}")
    ok = max(load_s) < LOAD_TARGET_S
    print(f"cached load_counties() < {LOAD_TARGET_S:.0f} s: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
