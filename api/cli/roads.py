"""``planner roads``: build a road graph folder from an OpenStreetMap extract, and the drive
matrix between points over it (:mod:`geodata.roads`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import console, err
from api.cli.language import Typer
from planner.i18n import N_, _

roads = Typer(
    help=N_("Road networks from an OpenStreetMap extract: build a graph, drive matrices."),
    no_args_is_help=True,
)


def _floats(text: str, n: int, option: str) -> tuple[float, ...]:
    """The ``n`` numbers of ``text`` (separated by commas); else exit 2 naming ``option``."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != n:
        err.print(
            _(
                "{option} {text!r}: expected {n} numbers separated by commas",
                option=option,
                text=text,
                n=n,
            )
        )
        raise typer.Exit(2)
    return values


@roads.command(help=N_("Keep the drivable roads of an OSM extract and write a graph folder."))
def build(
    extract: Annotated[
        Path,
        typer.Argument(help=N_("An OpenStreetMap extract (.osm.pbf, .osm)."), show_default=False),
    ],
    out: Annotated[Path, typer.Option("--out", help=N_("The graph folder to write."))],
    counties: Annotated[
        str | None,
        typer.Option("--counties", help=N_("County codes, separated by commas: keep their roads.")),
    ] = None,
    bbox: Annotated[
        str | None, typer.Option("--bbox", help=N_("W,S,E,N in degrees (WGS-84): keep its roads."))
    ] = None,
    buffer_m: Annotated[
        float, typer.Option("--buffer", help=N_("Metres kept around the counties."))
    ] = 10_000.0,
    storage: Annotated[
        str,
        typer.Option(
            "--node-index",
            help=N_(
                "pyosmium's node-location index (dense_file_array,FILE for a national extract)."
            ),
        ),
    ] = "flex_mem",
    elevation: Annotated[
        Path | None,
        typer.Option(
            "--elevation", help=N_("A DEM GeoTIFF: node elevations for the slope factors.")
        ),
    ] = None,
) -> None:
    """Keep the drivable roads of an OSM extract and write a graph folder."""
    from geodata.roads import Clip, build_roads, county_clip

    logging.basicConfig(level=logging.WARNING)
    if counties and bbox:
        err.print(_("give --counties or --bbox, not both"))
        raise typer.Exit(2)
    clip = None
    if bbox:
        w, s, e, n = _floats(bbox, 4, "--bbox")
        if not (w < e and s < n):
            err.print(_("--bbox {text!r}: expected west < east and south < north", text=bbox))
            raise typer.Exit(2)
        clip = Clip((w, s, e, n), None, f"bbox {bbox}")
    elif counties:
        try:
            clip = county_clip(counties.split(","), buffer_m)
        except ValueError as exc:
            err.print(str(exc))
            raise typer.Exit(2) from None
    try:
        with console.status(_("reading {extract}…", extract=extract)):
            report = build_roads(extract, out, clip, storage=storage, elevation=elevation)
    except (FileNotFoundError, ValueError) as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    except RuntimeError as exc:  # pyosmium: not an OSM file
        err.print(
            _(
                "{extract}: cannot be read as OpenStreetMap data ({reason})",
                extract=extract,
                reason=exc,
            )
        )
        raise typer.Exit(1) from None
    console.print(
        _(
            "{edges:,} road segments, {nodes:,} nodes in {tiles} tiles written to [bold]{out}[/]"
            " ({seconds:.1f} s)",
            edges=report.edges,
            nodes=report.nodes,
            tiles=report.tiles,
            out=out,
            seconds=report.seconds,
        )
    )


@roads.command(help=N_("Drive metres and seconds between every ordered pair of points."))
def matrix(
    folder: Annotated[
        Path, typer.Argument(help=N_("A graph folder of planner roads build."), show_default=False)
    ],
    points: Annotated[Path, typer.Option("--points", help=N_("A CSV with id,lon,lat."))],
    out: Annotated[Path, typer.Option("--out", help=N_("The matrix CSV to write."))],
    crs: Annotated[
        str, typer.Option("--crs", help=N_("The points' coordinates: wgs84, gcj02 or cgcs2000."))
    ] = "wgs84",
    snap_limit: Annotated[
        float,
        typer.Option(
            "--snap-limit", help=N_("Metres from a road beyond which a point is off the network.")
        ),
    ] = 1000.0,
) -> None:
    """Drive metres and seconds between every ordered pair of points."""
    from geodata.roads import RoadsError
    from geodata.roads.io import read_points, write_matrix
    from geodata.roads.matrix import road_matrix

    try:
        ids, lon, lat = read_points(points, crs)
        result = road_matrix(folder, lon, lat, snap_limit_m=snap_limit)
    except (FileNotFoundError, RoadsError, ValueError) as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    write_matrix(out, ids, result)
    for i in result.far.tolist():
        err.print(
            _(
                "warning: point {id} is {meters:,.0f} m from the nearest road (limit {limit:,.0f}"
                " m): its pairs have no path",
                id=ids[i],
                meters=result.snap.meters[i],
                limit=snap_limit,
            )
        )
    n = len(ids)
    unreachable = int((~(result.seconds < float("inf"))).sum())
    console.print(
        _(
            "{pairs:,} pairs ({unreachable:,} without a path) written to [bold]{out}[/]",
            pairs=n * n,
            unreachable=unreachable,
            out=out,
        )
    )


@roads.command(
    help=N_(
        "A SYNTHETIC road graph for the counties of a scenario's stations and stops (for "
        "trying routing on roads without an extract)."
    )
)
def synthetic(
    scenario: Annotated[
        str, typer.Argument(help=N_("Scenario folder, .zip or builtin:NAME."), show_default=False)
    ],
    out: Annotated[Path, typer.Option("--out", help=N_("The graph folder to write."))],
    seed: Annotated[int, typer.Option("--seed", help=N_("Seed of the synthetic roads."))] = 0,
    spacing: Annotated[
        float,
        typer.Option(
            "--spacing",
            min=500.0,
            help=N_("Metres between the synthetic crossings (8000 for a national tier)."),
        ),
    ] = 4000.0,
) -> None:
    """A SYNTHETIC road graph for the counties of a scenario's stations and stops."""
    import planner
    from geodata.roads.synthetic import build_synthetic_roads
    from planner.issues import ScenarioError

    try:
        report = build_synthetic_roads(planner.read_scenario(scenario).data, out, seed, spacing)
    except (ScenarioError, ValueError) as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    console.print(
        _(
            "SYNTHETIC roads: {edges:,} road segments, {nodes:,} nodes written to [bold]{out}[/]",
            edges=report.edges,
            nodes=report.nodes,
            out=out,
        )
    )
