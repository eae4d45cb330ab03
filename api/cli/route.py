"""The routing commands: ``planner route`` (the service vehicles of a scenario) and ``planner
vrp`` (benchmark mode on a CVRP/VRPTW instance)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import ScenarioArg, SchedulerOpt, Verbose, console, err, setup_logging
from api.cli.language import Typer, asked_language
from api.cli.output import print_routing
from api.cli.running import on_scheduler, run
from planner.i18n import N_, _

commands = Typer()


@commands.command(
    "route",
    help=N_("Route the service vehicles: routes.csv, routes.geojson, coverage.csv, summary.json."),
)
def route(
    ctx: typer.Context,
    scenario: ScenarioArg,
    out: Annotated[Path, typer.Option("--out", help=N_("Folder for the routing files."))],
    plan_dir: Annotated[
        Path | None,
        typer.Option(
            "--plan", help=N_("A plan folder: crews from its mobile_service assignments.")
        ),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help=N_("Wall seconds for the whole solve."))
    ] = 60.0,
    seed: Annotated[int, typer.Option("--seed", help=N_("Same seed, same routes."))] = 0,
    roads: Annotated[
        Path | None,
        typer.Option(
            "--roads", help=N_("A road graph folder (planner roads build): drive on its roads.")
        ),
    ] = None,
    scheduler: SchedulerOpt = None,
    verbose: Verbose = False,
) -> None:
    """Route the service vehicles: routes.csv, routes.geojson, coverage.csv, summary.json."""
    setup_logging(verbose)
    from api.core.stages import StageOptions
    from planner.route_plan import RoutingParams

    if plan_dir is not None and not (plan_dir / "assignments.csv").is_file():
        err.print(
            _("--plan {folder}: no assignments.csv there; expected a plan folder", folder=plan_dir)
        )
        raise typer.Exit(2)
    if roads is not None and not (roads / "manifest.json").is_file():
        err.print(
            _(
                "--roads {folder}: no manifest.json there; expected a folder of planner roads build",
                folder=roads,
            )
        )
        raise typer.Exit(2)
    options = StageOptions(
        stages=("routing",),
        routing=RoutingParams(time_limit=time_limit, seed=seed, roads=roads),
        crews=plan_dir if plan_dir is not None else "declared",
    )
    with on_scheduler(scheduler):
        doing = _("validating and routing")
        outcome = run(scenario, out, options, doing, asked_language(ctx))
    assert outcome.routes is not None
    print_routing(outcome.routes.summary, outcome.out)


@commands.command(
    "vrp", help=N_("Benchmark mode: solve a CVRP/VRPTW instance; the last line is `cost <number>`.")
)
def vrp(
    file: Annotated[Path, typer.Argument(help=N_("A CVRPLIB .vrp or Solomon .txt instance."))],
    time_limit: Annotated[
        float, typer.Option("--time-limit", help=N_("Seconds of search."))
    ] = 30.0,
    out: Annotated[
        Path | None, typer.Option("--out", help=N_("Write the routes as a VRPLIB .sol file."))
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help=N_("pyvrp (default) or ortools."))
    ] = "pyvrp",
    seed: Annotated[int, typer.Option("--seed", help=N_("Seed of the first search."))] = 0,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help=N_(
                "Parallel searches with seeds SEED, SEED+1, ...; the best wins "
                "(default: one per core)."
            ),
        ),
    ] = 0,
) -> None:
    """Benchmark mode: solve a CVRP/VRPTW instance; the last line is `cost <number>`."""
    from planner.routing.vrp import (
        ENGINES,
        VrpFormatError,
        format_cost,
        read_instance,
        solve_vrp,
        write_solution,
    )

    if engine not in ENGINES:
        err.print(
            _(
                "--engine {engine!r}; expected one of {engines}",
                engine=engine,
                engines=", ".join(ENGINES),
            )
        )
        raise typer.Exit(2)
    try:
        inst = read_instance(file)
    except VrpFormatError as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    sol = solve_vrp(inst, time_limit=time_limit, seed=seed, engine=engine, workers=workers or None)
    if not sol.feasible:
        err.print(
            _(
                "{name}: no feasible solution found in {seconds:g} s",
                name=inst.name,
                seconds=time_limit,
            )
        )
        raise typer.Exit(1)
    if out is not None:
        write_solution(out, sol.routes, sol.cost)
        console.print(_("routes written to {out}", out=out))
    console.print(
        _(
            "{name}: {n} routes, engine {engine}",
            name=inst.name,
            n=len(sol.routes),
            engine=sol.engine,
        )
    )
    sys.stdout.write(f"cost {format_cost(sol.cost)}\n")
