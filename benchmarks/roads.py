"""Road graphs (docs/routing.md "Roads"): build cost, matrix cost, the engine, and the
great-circle model's error against the roads. Prints markdown tables.

    nice .venv/bin/python benchmarks/roads.py [--grid 700] [--skip-large]
    nice .venv/bin/python benchmarks/roads.py --national [--spacing 8000] [--roads FOLDER]

1. Build time and peak memory per million edges: the Helsinki extract and a synthetic grid
   (``--grid N``: N x N crossings, about 2 N^2 segments) written as ``.osm.pbf`` with pyosmium.
   Each build runs in a fresh process; its peak is that process's own (ru_maxrss).
2. The engine: scipy.sparse.csgraph.dijkstra against networkx on the same graphs, one source
   per point of a 30-point matrix (60 sources).
3. Matrix time for a county of 30 stops: a box of the large graph about a county's size, and
   the busiest county of huaihua-screening on its synthetic road graph.
4. The great-circle x circuity model (1.3, as ``[rules] circuity``) against the roads on the
   same pairs (Helsinki: 40 random points in the largest strongly connected part): quantiles
   of road metres / great-circle metres, and of the model's metres error.
5. ``--national`` (alone): builtin:tier-national's SYNTHETIC road graph (its 1,093 counties,
   ``planner roads synthetic --spacing``), then every county's station/stop matrix as one
   task each on 1 and 2 workers of the local process pool and of a Dask LocalCluster: wall
   time, peak memory of each worker process, the tiles and bytes each county's task read.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HELSINKI = Path("/work/shared/osm/helsinki.osm.pbf")


def _build_in_child(extract: str, out: str, q: multiprocessing.Queue) -> None:
    from geodata.roads import build_roads

    t0 = time.perf_counter()
    report = build_roads(Path(extract), Path(out))
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    q.put((report.edges, report.nodes, seconds, peak))


def _baseline_in_child(q: multiprocessing.Queue) -> None:
    import osmium  # noqa: F401

    import geodata.roads  # noqa: F401

    q.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def _run_child(target, *args):  # type: ignore[no-untyped-def]
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    out = q.get()
    p.join()
    return out


def synthetic_pbf(n: int, path: Path) -> Path:
    """An n x n grid of 100 m blocks (residential, every tenth line tertiary) as .osm.pbf."""
    import osmium

    if path.exists():
        path.unlink()
    lon0, lat0, step = 100.0, 30.0, 0.001
    with osmium.SimpleWriter(str(path)) as w:
        for r in range(n):
            for c in range(n):
                w.add_node(
                    osmium.osm.mutable.Node(
                        id=r * n + c + 1, location=(lon0 + c * step, lat0 + r * step)
                    )
                )
        way_id = 1
        for r in range(n):  # one way per grid line, row by row then column by column
            cls = "tertiary" if r % 10 == 0 else "residential"
            w.add_way(
                osmium.osm.mutable.Way(
                    id=way_id, nodes=[r * n + c + 1 for c in range(n)], tags={"highway": cls}
                )
            )
            way_id += 1
        for c in range(n):
            cls = "tertiary" if c % 10 == 0 else "residential"
            tags = {"highway": cls, **({"oneway": "yes"} if c % 7 == 3 else {})}
            w.add_way(
                osmium.osm.mutable.Way(
                    id=way_id, nodes=[r * n + c + 1 for r in range(n)], tags=tags
                )
            )
            way_id += 1
    return path


def build_table(extracts: list[tuple[str, Path]], tmp: Path) -> None:
    base = _run_child(_baseline_in_child)
    print("\n### Build (pyosmium reader, one process each)\n")
    print(f"(a process with the reader imported peaks at {base / 2**20:.0f} MB)\n")
    print(
        "| extract | file | edges | nodes | build s | s per M edges | peak MB | peak above imports, MB per M edges |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, path in extracts:
        edges, nodes, seconds, peak = _run_child(_build_in_child, str(path), str(tmp / name))
        per_m = edges / 1e6
        print(
            f"| {name} | {path.stat().st_size / 2**20:.1f} MB | {edges:,} | {nodes:,} | "
            f"{seconds:.1f} | {seconds / per_m:.1f} | {peak / 2**20:.0f} | "
            f"{(peak - base) / 2**20 / per_m:.0f} |"
        )


def engine_table(folders: list[tuple[str, Path]]) -> None:
    import networkx as nx
    from scipy.sparse import csgraph

    from geodata.roads import read_graph

    print("\n### Engine: one single-source shortest-path tree, ms (scipy: 60 trees, networkx: 6)\n")
    print(
        "| graph | nodes | arcs | scipy csgraph dijkstra | networkx (dijkstra, dict graph) | ratio |"
    )
    print("|---|---|---|---|---|---|")
    for name, folder in folders:
        g = read_graph(folder)
        rng = np.random.default_rng(0)
        src = rng.choice(g.n_nodes, 60, replace=False)
        t0 = time.perf_counter()
        csgraph.dijkstra(g.seconds, indices=src, return_predecessors=True)
        t_sc = time.perf_counter() - t0
        coo = g.seconds.tocoo()
        t0 = time.perf_counter()
        dg = nx.DiGraph()
        dg.add_weighted_edges_from(
            zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
        )
        for s in src[:6].tolist():
            nx.single_source_dijkstra(dg, s)
        t_nx = (time.perf_counter() - t0) / 6
        t_sc /= 60
        print(
            f"| {name} | {g.n_nodes:,} | {g.seconds.nnz:,} | {t_sc * 1000:.1f} | "
            f"{t_nx * 1000:.0f} (graph built in the time) | {t_nx / t_sc:.0f}x |"
        )


def matrix_table(large: Path | None, huaihua: Path | None, grid: int) -> None:
    from geodata.roads import road_matrix

    print("\n### Matrix of a 30-stop county (read the box + snap + Dijkstra)\n")
    print("| graph | edges read | seconds | pairs without a path |")
    print("|---|---|---|---|")
    rng = np.random.default_rng(1)
    if large is not None:
        side = min(0.3, 0.8 * grid * 0.001)  # a county of up to 30 km x 30 km in the grid
        lon = 100.0 + 0.1 * grid * 0.001 + rng.uniform(0, side, 30)
        lat = 30.0 + 0.1 * grid * 0.001 + rng.uniform(0, side, 30)
        t0 = time.perf_counter()
        m = road_matrix(large, lon, lat)
        t = time.perf_counter() - t0
        print(
            f"| synthetic grid, 30 points | {m.edges:,} | {t:.2f} | {int(np.isinf(m.seconds).sum())} |"
        )
    if huaihua is not None:
        import planner

        sp = planner.read_scenario("builtin:huaihua-screening").data.stops
        assert sp is not None
        codes, counts = np.unique(sp.county_code, return_counts=True)
        code = codes[np.argmax(counts)]
        pick = np.flatnonzero(sp.county_code == code)[:30]
        t0 = time.perf_counter()
        m = road_matrix(huaihua, sp.lon[pick], sp.lat[pick])
        t = time.perf_counter() - t0
        print(
            f"| huaihua-screening {code} (SYNTHETIC roads), {len(pick)} stops | "
            f"{m.edges:,} | {t:.2f} | {int(np.isinf(m.seconds).sum())} |"
        )


def error_table(folder: Path, label: str, circuity: float = 1.3, speed_kmh: float = 40.0) -> None:
    import networkx as nx

    from geodata.roads import point_matrix, read_graph
    from geodata.roads.build import haversine_m

    g = read_graph(folder)
    dg = nx.DiGraph()
    coo = g.seconds.tocoo()
    dg.add_edges_from(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
    main = np.array(sorted(max(nx.strongly_connected_components(dg), key=len)))
    rng = np.random.default_rng(2)
    pick = rng.choice(main, 40, replace=False)
    m = point_matrix(g, g.lon[pick], g.lat[pick])
    gc = haversine_m(
        g.lon[pick][:, None], g.lat[pick][:, None], g.lon[pick][None, :], g.lat[pick][None, :]
    )
    off = ~np.eye(len(pick), dtype=bool) & (gc > 50) & np.isfinite(m.meters)
    np.seterr(divide="ignore", invalid="ignore")
    ratio = (m.meters / gc)[off]
    model_m = gc * circuity
    err_m = ((model_m - m.meters) / m.meters)[off]
    model_min = gc / 1000 * circuity / speed_kmh * 60
    err_t = ((model_min - m.seconds / 60) / (m.seconds / 60))[off]
    qs = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]
    print(
        f"\n### Great-circle x {circuity} against the roads: {label}, {off.sum():,} ordered pairs\n"
    )
    print("| quantile | " + " | ".join(f"{q:.0%}" for q in qs) + " |")
    print("|---|" + "---|" * len(qs))
    print(
        "| road m / great-circle m | "
        + " | ".join(f"{v:.2f}" for v in np.quantile(ratio, qs))
        + " |"
    )
    print(
        "| model metres error | " + " | ".join(f"{v:+.0%}" for v in np.quantile(err_m, qs)) + " |"
    )
    print(
        f"| model minutes error ({speed_kmh:g} km/h) | "
        + " | ".join(f"{v:+.0%}" for v in np.quantile(err_t, qs))
        + " |"
    )
    asym = np.abs(m.seconds - m.seconds.T)[off] / np.maximum(m.seconds, m.seconds.T)[off]
    print(
        f"\none-way asymmetry: {np.mean(asym > 0.05):.0%} of pairs differ by more than 5% between directions"
    )


def _national_build_in_child(out: str, spacing: float, q: multiprocessing.Queue) -> None:
    import planner
    from geodata.roads.synthetic import build_synthetic_roads

    sc = planner.read_scenario("builtin:tier-national").data
    assert sc.stops is not None
    counties = len(set(sc.stops.county_code.tolist()))
    t0 = time.perf_counter()
    report = build_synthetic_roads(sc, Path(out), seed=0, spacing_m=spacing)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    q.put((counties, report.edges, report.nodes, report.tiles, seconds, peak))


def _national_tasks_in_child(folder: str, q: multiprocessing.Queue) -> None:
    """One matrix task per county of builtin:tier-national: its stations and stops, the
    arguments of :func:`geodata.roads.matrix.road_matrix` (what a county's routing task
    computes first). Made in a child process, so that the benchmark's own process (which
    runs the tasks of one local worker itself) does not hold the national tier."""
    import planner
    from planner.routing.problem import RoutingProblem

    p = RoutingProblem.from_scenario(planner.read_scenario("builtin:tier-national").data)
    lon, lat = np.asarray(p.lon), np.asarray(p.lat)
    tasks = []
    for c in sorted(set(p.stop_county.tolist())):
        at = np.concatenate([p.station_county == c, p.stop_county == c])
        tasks.append((Path(folder), lon[at], lat[at]))
    q.put(tasks)


def national_table(folder: Path, limit: int | None) -> None:
    """Every county's station/stop matrix of the national tier, on 1 and 2 workers of the
    local process pool and of a Dask LocalCluster: wall time, peak memory per worker, the
    tiles and bytes each county's task read."""
    from geodata.roads.matrix import road_matrix
    from planner import workers

    tasks = _run_child(_national_tasks_in_child, str(folder))
    baseline = workers._peak_rss()  # this process, imports only: 1 local worker runs here
    tasks = tasks[:limit] if limit else tasks
    total = sum(f.stat().st_size for f in (folder / "edges").glob("*.parquet"))
    tiles_all = len(list((folder / "edges").glob("*.parquet")))
    print(f"\n#### Matrices of the national tier's {len(tasks):,} counties (SYNTHETIC roads)\n")
    print(
        f"(graph folder: {tiles_all} tiles, {total / 1e6:.1f} MB of edges; this process before "
        f"the tasks: {baseline / 1e6:.0f} MB)\n"
    )
    print(
        "| scheduler | workers | wall s | task s (sum) | peak MB per worker | tiles per county "
        "(median / max) | MB read per county (median / max) | MB read in all | pairs without a path |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, spec in (("local processes", "processes:{n}"), ("Dask LocalCluster", "local:{n}")):
        for n in (1, 2):
            scheduler = workers.parse(spec.format(n=n))
            try:
                scheduler.start()
                t0 = time.perf_counter()
                with workers.using(scheduler), workers.recording() as rec:
                    out = workers.map_tasks(road_matrix, tasks, n, label="matrix")
                wall = time.perf_counter() - t0
            finally:
                scheduler.close()
            recs = rec.of("matrix")
            peak: dict[str, int] = {}
            for t in recs:
                peak[t.worker] = max(peak.get(t.worker, 0), t.peak_rss)
            tiles = np.array([len(m.tiles) for m in out])
            read = np.array([m.bytes_read for m in out]) / 1e6
            missing = sum(int((~np.isfinite(m.seconds)).sum()) for m in out)
            peaks = ", ".join(f"{v / 1e6:.0f}" for v in sorted(peak.values()))
            print(
                f"| {kind} | {n} | {wall:.1f} | {sum(t.seconds for t in recs):.1f} | {peaks} "
                f"| {np.median(tiles):.0f} / {tiles.max()} | {np.median(read):.2f} / "
                f"{read.max():.2f} | {read.sum():.0f} | {missing:,} |"
            )


def national(tmp: Path, spacing: float, limit: int | None, folder: Path | None) -> None:
    """The national tier: its synthetic road graph built (or ``folder``), then the matrices."""
    if folder is None:
        folder = tmp / "national-roads"
        counties, edges, nodes, tiles, seconds, peak = _run_child(
            _national_build_in_child, str(folder), spacing
        )
        print(f"\n#### SYNTHETIC national road graph (builtin:tier-national, {spacing:g} m grid)\n")
        print("| counties | edges | nodes | tiles | build s (XML + build) | peak MB |")
        print("|---|---|---|---|---|---|")
        print(
            f"| {counties:,} | {edges:,} | {nodes:,} | {tiles} | {seconds:.0f} | {peak / 1e6:.0f} |"
        )
    national_table(folder, limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--grid", type=int, default=700, help="crossings per side of the synthetic grid"
    )
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument(
        "--national",
        action="store_true",
        help="only the national tier: its synthetic graph and every county's matrix on 1 and "
        "2 workers (local processes, Dask LocalCluster)",
    )
    parser.add_argument("--spacing", type=float, default=8000.0, help="national grid, metres")
    parser.add_argument("--roads", type=Path, help="a national graph folder built already")
    parser.add_argument("--counties", type=int, help="only the first N counties")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        if args.national:
            national(tmp, args.spacing, args.counties, args.roads)
            return
        extracts = [("helsinki", HELSINKI)]
        large = None
        if not args.skip_large:
            t0 = time.perf_counter()
            pbf = synthetic_pbf(args.grid, tmp / "grid.osm.pbf")
            print(
                f"(synthetic grid {args.grid} x {args.grid} written in {time.perf_counter() - t0:.1f} s)"
            )
            extracts.append((f"synthetic grid {args.grid}x{args.grid}", pbf))
        build_table(extracts, tmp)
        folders = [("helsinki", tmp / "helsinki")]
        if not args.skip_large:
            large = tmp / f"synthetic grid {args.grid}x{args.grid}"
            folders.append((f"synthetic grid {args.grid}x{args.grid}", large))
        engine_table(folders)
        import planner
        from geodata.roads.synthetic import build_synthetic_roads

        huaihua = tmp / "huaihua-roads"
        build_synthetic_roads(planner.read_scenario("builtin:huaihua-screening").data, huaihua)
        matrix_table(large, huaihua, args.grid)
        error_table(tmp / "helsinki", "Helsinki (real OSM)")
        error_table(huaihua, "huaihua-screening's SYNTHETIC roads")


if __name__ == "__main__":
    main()
