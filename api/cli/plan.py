"""The plan commands: ``planner plan`` (assign applicants to posts), ``planner map`` (a plan's
offline map), ``planner explain`` (an applicant's placement with the exact price of each of his
preferences) and ``planner diff`` (two plan folders side by side)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import ScenarioArg, SchedulerOpt, Verbose, console, err, setup_logging
from api.cli.language import Typer, asked_language
from api.cli.output import print_plan, print_report
from api.cli.running import on_scheduler, run
from planner.allocation.status import DEFAULT_TIME_LIMIT
from planner.i18n import N_, _

commands = Typer()


@commands.command(
    "plan",
    help=N_(
        "Assign applicants to posts under rules A1-A6; write assignments, seats, summary, xlsx."
    ),
)
def plan(
    ctx: typer.Context,
    scenario: ScenarioArg,
    out: Annotated[Path, typer.Option("--out", help=N_("Folder for the plan's files."))],
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit", help=N_("Seconds for the solve; the best plan and its bound are kept.")
        ),
    ] = DEFAULT_TIME_LIMIT,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous", help=N_("An earlier plan folder: re-plan with as few moves as possible.")
        ),
    ] = None,
    pins: Annotated[
        Path | None,
        typer.Option(
            "--pins",
            help=N_(
                "The office's decisions, pins.csv (action,applicant_id,post_id; actions "
                "assign, forbid, close, exclude): the optimum under them, priced."
            ),
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help=N_("The plan folder the pins were set on (default: the plan without them)."),
        ),
    ] = None,
    scheduler: SchedulerOpt = None,
    verbose: Verbose = False,
) -> None:
    """Assign applicants to posts under rules A1-A6; write assignments, seats, summary, xlsx."""
    setup_logging(verbose)
    from api.core.stages import StageOptions
    from geodata.planfolder import PlanFolderError, read_pins
    from planner.pins import PinError
    from planner.plan import AllocationParams

    decisions = None
    if pins is not None:
        try:
            decisions = read_pins(pins)
        except PinError as exc:
            print_report(exc.report, str(pins))
            err.print(_(exc.message))
            raise typer.Exit(1) from None
        except PlanFolderError as exc:
            err.print(str(exc))
            raise typer.Exit(1) from None

    if previous is not None and not (previous / "assignments.csv").is_file():
        err.print(
            _(
                "--previous {folder}: no assignments.csv there; expected an earlier plan folder",
                folder=previous,
            )
        )
        raise typer.Exit(2)
    options = StageOptions(
        stages=("allocation",),
        allocation=AllocationParams(time_limit=time_limit),
        previous=previous,
        pins=decisions,
        baseline=baseline,
    )
    with on_scheduler(scheduler):
        doing = _("validating, pricing and solving")
        outcome = run(scenario, out, options, doing, asked_language(ctx))
    assert outcome.plan is not None
    print_plan(outcome.plan.summary, outcome.out)


@commands.command(
    "map", help=N_("Write a standalone, offline map.html of a plan (and report.png with --png).")
)
def map_(
    plan_dir: Annotated[
        Path,
        typer.Argument(
            help=N_("A plan folder (planner plan / planner route)."), show_default=False
        ),
    ],
    province: Annotated[
        str | None, typer.Option("--province", help=N_("Six-digit province code: map only it."))
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help=N_("The HTML file [default: PLAN_DIR/map.html]."))
    ] = None,
    tiles: Annotated[
        str | None,
        typer.Option(
            "--tiles",
            help=N_(
                "Tile URL template ({z}/{x}/{y}); Gaode/Amap hosts get GCJ-02 data. "
                "Default: no tiles (works offline)."
            ),
        ),
    ] = None,
    png: Annotated[
        bool, typer.Option("--png", help=N_("Also write the static overview report.png."))
    ] = False,
    verbose: Verbose = False,
) -> None:
    """Write a standalone, offline map.html of a plan (and report.png with --png)."""
    setup_logging(verbose)
    from maps import MapInputError, write_map, write_png
    from maps.offline import AssetsMissing

    try:
        with console.status(_("drawing the map…")):
            page = write_map(plan_dir, out=out, province=province, tiles=tiles)
            picture = write_png(plan_dir, province=province) if png else None
    except (MapInputError, AssetsMissing) as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    size = page.stat().st_size / 1e6
    console.print(_("map written to [bold]{page}[/] ({size:.2f} MB)", page=page, size=size))
    if picture is not None:
        console.print(_("overview written to [bold]{picture}[/]", picture=picture))


PlanDir = Annotated[Path, typer.Argument(help=N_("A plan folder (planner plan --out)."))]


@commands.command(
    "explain",
    help=N_("Why an applicant is where a plan put him, and the exact price of each preference."),
)
def explain(
    plan_dir: PlanDir,
    applicant_id: Annotated[str, typer.Argument(help=N_("The applicant's id."))],
    as_json: Annotated[bool, typer.Option("--json", help=N_("Print JSON for machines."))] = False,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help=N_("Seconds for each alternative's solve."))
    ] = DEFAULT_TIME_LIMIT,
) -> None:
    """Why an applicant is where the plan put him, and the exact price of each preference."""
    import planner
    from planner.plan import AllocationParams

    try:
        plan = planner.read_plan(plan_dir)
        e = plan.explain(applicant_id, AllocationParams(time_limit=time_limit))
    except KeyError as exc:
        err.print(_("{folder}: {problem}", folder=plan_dir, problem=exc.args[0]))
        raise typer.Exit(1) from None
    except (FileNotFoundError, ValueError) as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(e.to_dict(), ensure_ascii=False, indent=2))
        return
    if e.post_id:
        console.print(
            _(
                "{aid}: post {post} in {county}, preference {rank}, cost {cost:,.2f}",
                aid=e.applicant_id,
                post=e.post_id,
                county=e.county_code,
                rank=e.preference_rank,
                cost=e.cost,
            )
        )
    else:
        console.print(
            _("{aid}: not placed ({reason})", aid=e.applicant_id, reason=e.unplaced_reason)
        )
    table = Table(title=_("Alternatives (extra cost: exact, a certified solve each)"))
    for column in ("choice", "county_code", "post_id", "feasible", "extra_cost", "reason"):
        table.add_column(column)
    for row in e.alternatives.to_dict(orient="records"):
        cost = float(row["extra_cost"])
        extra = "" if cost != cost else f"{cost:+,.2f}"
        cells = (row["choice"], row["county_code"], row["post_id"], row["feasible"])
        table.add_row(*(str(c) for c in cells), extra, str(row["reason"]))
    console.print(table)


@commands.command(
    "diff",
    help=N_("Who kept, changed, gained or lost a post between two plan folders."),
)
def diff(
    plan_a: Annotated[Path, typer.Argument(help=N_("The plan before (a plan folder)."))],
    plan_b: Annotated[Path, typer.Argument(help=N_("The plan after (a plan folder)."))],
    out: Annotated[
        Path | None, typer.Option("--out", help=N_("Write every row to this CSV file."))
    ] = None,
) -> None:
    """Who kept his post, moved, was newly placed or is no longer placed between two plans."""
    from geodata.planfolder import PlanFolderError, read_table
    from planner.diff import CHANGES, diff_assignments

    try:
        before, after = (
            read_table(folder / "assignments.csv", required=("applicant_id", "post_id"))
            for folder in (plan_a, plan_b)
        )
    except PlanFolderError as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    d = diff_assignments(before, after)
    counts = d["change"].value_counts()
    console.print(", ".join(f"{c} {int(counts.get(c, 0)):,}" for c in CHANGES))
    changed = d[d["change"] != "kept"]
    table = Table()
    for column in d.columns:
        table.add_column(column)
    for row in changed.head(200).itertuples(index=False):
        table.add_row(*(str(c) for c in row))
    console.print(table)
    if len(changed) > 200:
        console.print(_("… and {n} more (use --out for all of them)", n=len(changed) - 200))
    if out is not None:
        d.to_csv(out, index=False, encoding="utf-8-sig")
