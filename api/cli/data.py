"""The scenario commands: ``planner validate`` (check a scenario like an auditor), ``planner
demo`` (every stage on the built-in data) and ``planner template`` (an empty workbook)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import ScenarioArg, Verbose, console, err, setup_logging
from api.cli.language import Typer, asked_language
from api.cli.output import print_plan, print_report, print_routing, shown_sizes, summarize_report
from api.cli.running import STAGES
from planner import i18n
from planner.i18n import N_, _

commands = Typer()

DEMO_SCENARIOS = ("huaihua-screening", "western-2006")
"""The built-in scenarios ``planner demo`` runs (the allocation's map comes last)."""


@commands.command(
    "validate",
    help=N_("Check a scenario; print every problem with file, line and column. Exit 1 on errors."),
)
def validate(
    scenario: ScenarioArg,
    json_out: Annotated[bool, typer.Option("--json", help=N_("Print the report as JSON."))] = False,
    verbose: Verbose = False,
) -> None:
    """Check a scenario; print every problem with file, line and column. Exit 1 on errors."""
    setup_logging(verbose)
    import planner

    result = planner.read_scenario(scenario)
    if json_out:
        sys.stdout.write(result.report.to_json() + "\n")
    else:
        print_report(result.report, scenario)
        if result.valid:
            s = result.data
            label = _(" [bold magenta](SYNTHETIC DATA)[/]") if s.synthetic else ""
            console.print(
                _(
                    "scenario {name!r} {year}{label}: {sizes}",
                    name=s.name,
                    year=s.year,
                    label=label,
                    sizes=shown_sizes(s.table_sizes()),
                )
            )
    raise typer.Exit(0 if result.report.ok else 1)


@commands.command(
    "demo",
    help=N_("Run every stage that exists on the built-in data (western-2006, huaihua-screening)."),
)
def demo(
    ctx: typer.Context,
    write: Annotated[
        Path | None,
        typer.Option(
            "--write", help=N_("Write the built-in scenarios as folders into DIR and stop.")
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help=N_("Where the demo's outputs go."))] = Path(
        "demo-output"
    ),
    verbose: Verbose = False,
) -> None:
    """Run every stage that exists on the built-in data (western-2006, huaihua-screening)."""
    setup_logging(verbose)
    import planner
    from api.core.stages import StageOptions, run_stages
    from geodata.builtin import builtin_folder, write_builtin

    if write is not None:
        for name in DEMO_SCENARIOS:
            folder = write_builtin(name, write / name)
            console.print(
                _("wrote [bold]{folder}[/] (synthetic tables, real geometry)", folder=folder)
            )
        return
    out.mkdir(parents=True, exist_ok=True)
    failed = False
    for name in DEMO_SCENARIOS:
        t0 = time.perf_counter()
        with console.status(
            _("preparing built-in scenario {name} (first run builds caches)…", name=name)
        ):
            folder = builtin_folder(name)
            scenario = planner.read_scenario(folder)
        dt = time.perf_counter() - t0
        console.rule(_("{name} [magenta](SYNTHETIC DATA, real county polygons)[/]", name=name))
        if scenario.report.errors:
            print_report(scenario.report, str(folder), limit=20)
        else:
            console.print(summarize_report(scenario.report))
        if not scenario.valid:
            failed = True
            continue
        sizes = shown_sizes(scenario.data.table_sizes())
        console.print(_("validated in {seconds:.1f} s: {sizes}", seconds=dt, sizes=sizes))
        report_path = out / f"{name}-validation.json"
        report_path.write_text(scenario.report.to_json(), encoding="utf-8")
        console.print(_("validation report: {path}", path=report_path))
        console.print(_("scenario folder: {folder}", folder=folder))
        # the demo routes every declared vehicle, as `planner route` without --plan does
        with console.status(f"{name}…") as status:

            def on_stage(stage: str, progress: float, name: str = name) -> None:
                status.update(f"{name}: {_(STAGES.get(stage, stage))}…")

            options = StageOptions(crews="declared", language=asked_language(ctx))
            outcome = run_stages(scenario, out / name, options, on_stage)
        if outcome.plan is not None:
            print_plan(outcome.plan.summary, outcome.out)
        if outcome.routes is not None:
            print_routing(outcome.routes.summary, outcome.out)
        if outcome.map is None:
            err.print(_("no map of {name} (the reason is above)", name=name))
            failed = True
        else:
            console.print(
                _(
                    "map of {name} (opens offline): [bold]{page}[/]",
                    name=name,
                    page=outcome.map.resolve(),
                )
            )
    console.print(_("outputs in [bold]{out}[/]", out=out.resolve()))
    raise typer.Exit(1 if failed else 0)


@commands.command(
    "template",
    help=N_(
        "Write an empty scenario workbook in the language of --lang: a sheet per table, "
        "explained headers, lists, an example row."
    ),
)
def template(
    out: Annotated[Path, typer.Option("--out", help=N_("The workbook to write (.xlsx)."))],
) -> None:
    """Write an empty scenario workbook: a sheet per table, explained headers, lists, an
    example row."""
    from geodata.scenario_xlsx import write_template

    path = write_template(out, i18n.language())
    console.print(_("template written to [bold]{path}[/]", path=path))
