"""The ``planner`` command line.

``planner validate SCENARIO`` checks a scenario like an auditor; ``planner demo`` runs every
stage that exists on the built-in data. A user error prints a readable message and exits
with status 1 or 2, never a Python traceback.

Everything it prints, its help included, is in the language chosen by ``--lang`` (anywhere on
the command line), else ``PLANNER_LANG``, else the system's locale (:mod:`planner.i18n`); the
help texts are templates of the catalogue, translated when the module is imported, so the
language is read from the command line first.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from planner import i18n
from planner.allocation.status import DEFAULT_TIME_LIMIT
from planner.i18n import N_, _
from planner.issues import Report, Severity
from planner.summaries import PlanSummary, RoutingSummary

R = TypeVar("R")

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from api.core.stages import StageOptions, StageOutcome


def _argv_language(argv: list[str]) -> str | None:
    """The value of ``--lang X`` or ``--lang=X`` anywhere in ``argv``."""
    for k, arg in enumerate(argv):
        if arg == "--lang" and k + 1 < len(argv):
            return argv[k + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def _speak(lang: str) -> None:
    """Speak ``lang``: our texts through the catalogue, and Typer's help panels too."""
    import typer.rich_utils as panels

    i18n.use(lang)
    for name, text in _TYPER_TEXTS.items():
        setattr(panels, name, _(text))


_TYPER_TEXTS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "DEFAULT_STRING": N_("[default: {}]"),
}
"""Typer's own words in its help panels (Click's "Usage:" stays as Click writes it)."""

_speak(i18n.choose(_argv_language(sys.argv[1:])))
_EXPLICIT: str | None = None
"""The language the user gave with ``--lang`` (the files follow it, else the scenario's)."""

app = typer.Typer(
    help=_(
        "Western Plan service-network planner (大学生志愿服务西部计划): validate, plan, route, map."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

_STAGES = {
    "validation": N_("validation"),
    "allocation": N_("allocation"),
    "routing": N_("routing"),
    "map": N_("map"),
}
"""The stage runner's stages, for the status line."""

DEMO_SCENARIOS = ("huaihua-screening", "western-2006")
"""The built-in scenarios ``planner demo`` runs (the allocation's map comes last)."""

ScenarioArg = Annotated[
    str,
    typer.Argument(
        help=_(
            "Scenario folder, .zip, .xlsx workbook, or builtin:NAME (western-2006, "
            "huaihua-screening, tier-...)"
        ),
        show_default=False,
    ),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help=_("Log what the solvers do."))]


@app.callback()
def _options(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help=_(
                "Language of what is printed and written: zh-CN or en (default: PLANNER_LANG, else the system's)."
            ),
        ),
    ] = None,
) -> None:
    global _EXPLICIT
    if lang is not None:
        _EXPLICIT = lang
        if i18n.normalize(lang) is None:
            err.print(
                _(
                    "--lang {lang!r}; expected one of {languages}",
                    lang=lang,
                    languages=", ".join(i18n.LANGUAGES),
                )
            )
            raise typer.Exit(2)
        _speak(lang)


SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help=_(
            "Where the tasks run: tcp://HOST:8786 (a Dask scheduler), local:N (a Dask "
            "LocalCluster of N workers started here), processes:N or local (processes here). "
            "Default: $PLANNER_DASK_SCHEDULER, else local."
        ),
        show_default=False,
    ),
]

TASK_LABELS = {
    "county": N_("counties routed"),
    "proof": N_("county proofs"),
    "part": N_("allocation parts"),
    "variant": N_("variants planned"),
}
"""What the progress bars call the tasks of planner.workers, by label."""


@contextmanager
def _scheduler(spec: str | None) -> Iterator[None]:
    """Run the command's tasks on the scheduler ``--scheduler`` or
    ``$PLANNER_DASK_SCHEDULER`` names; print the Dask dashboard's address when a cluster is
    used; a scheduler that cannot be reached exits 2 with its address."""
    from planner import workers
    from planner.cluster import DaskCluster, SchedulerUnreachable

    try:
        chosen = workers.parse(spec) if spec else workers.from_environment()
    except ValueError as exc:
        err.print(f"--scheduler: {exc}")
        raise typer.Exit(2) from None
    with workers.using(chosen):
        try:
            if isinstance(chosen, DaskCluster):
                try:
                    with console.status(_("connecting to the Dask scheduler {name}…", name=chosen)):
                        chosen.start()
                except SchedulerUnreachable as exc:
                    err.print(str(exc))
                    raise typer.Exit(2) from None
                console.print(
                    _(
                        "tasks run on the Dask cluster {name}; dashboard: {link}",
                        name=chosen,
                        link=chosen.dashboard() or "-",
                    )
                )
            yield
        finally:
            chosen.close()


class _Bars:
    """Rich progress bars: one line for the stage, one bar per kind of task (counties
    routed, variants planned ...), fed by :func:`planner.workers.progress`."""

    def __init__(self, progress: Progress, doing: str) -> None:
        self.progress, self.doing = progress, doing
        self.stage = progress.add_task(f"{doing}…", total=None)
        self.bars: dict[str, TaskID] = {}

    def on_stage(self, stage: str, _progress: float) -> None:
        self.progress.update(
            self.stage, description=f"{self.doing}: {_(_STAGES.get(stage, stage))}…"
        )

    def __call__(self, label: str, done: int, total: int) -> None:
        if label not in TASK_LABELS:
            return
        bar = self.bars.get(label)
        if bar is None or (done == 0 and self.progress.tasks[bar].finished):
            bar = self.progress.add_task(_(TASK_LABELS[label]), total=total)
            self.bars[label] = bar
        self.progress.update(bar, completed=done, total=total)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def print_report(report: Report, source: str, limit: int | None = 200) -> None:
    """Print the issues as a table: severity, file (a workbook's cell), line, column, rule,
    message."""
    issues = report.sorted()
    if issues:
        table = Table(title=_("Problems in {source}", source=source), show_lines=False, expand=True)
        table.add_column(_("severity"), no_wrap=True)
        table.add_column(_("file"), no_wrap=True)
        table.add_column(_("line"), justify="right", no_wrap=True)
        table.add_column(_("column"), no_wrap=True)
        table.add_column(_("rule"), no_wrap=True)
        table.add_column(_("message"), ratio=1)
        shown = issues if limit is None else issues[:limit]
        severity = {Severity.ERROR: _("error"), Severity.WARNING: _("warning")}
        for i in shown:
            style = "red" if i.severity is Severity.ERROR else "yellow"
            table.add_row(
                f"[{style}]{severity[i.severity]}[/]",
                i.cell or i.file,
                "" if i.line is None else str(i.line),
                i.column or "",
                i.rule,
                i.message,
                style=None,
            )
        console.print(table, markup=True)
        if limit is not None and len(issues) > limit:
            console.print(_("… and {n} more (use --json for all of them)", n=len(issues) - limit))
    n_err, n_warn = len(report.errors), len(report.warnings)
    colour = "red" if n_err else ("yellow" if n_warn else "green")
    counted = _("{errors} error(s), {warnings} warning(s)", errors=n_err, warnings=n_warn)
    console.print(
        _("[{colour}]{counted}[/] in {source}", colour=colour, counted=counted, source=source)
    )


def summarize_report(report: Report) -> str:
    """One line: errors and warnings counted by rule."""
    by_rule = Counter(f"{i.severity.value} {i.rule}" for i in report.issues)
    parts = ", ".join(f"{n} × {k}" for k, n in sorted(by_rule.items()))
    counted = _(
        "{errors} error(s), {warnings} warning(s)",
        errors=len(report.errors),
        warnings=len(report.warnings),
    )
    return counted + (f": {parts}" if parts else "")


@app.command(
    help=_("Check a scenario; print every problem with file, line and column. Exit 1 on errors.")
)
def validate(
    scenario: ScenarioArg,
    json_out: Annotated[bool, typer.Option("--json", help=_("Print the report as JSON."))] = False,
    verbose: Verbose = False,
) -> None:
    """Check a scenario; print every problem with file, line and column. Exit 1 on errors."""
    _setup_logging(verbose)
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
                    sizes=_sizes(s.table_sizes()),
                )
            )
    raise typer.Exit(0 if result.report.ok else 1)


_TABLE_NAMES = {
    "quotas": N_("quotas"),
    "posts": N_("posts"),
    "continuing": N_("continuing"),
    "applicants": N_("applicants"),
    "pairing": N_("pairing"),
    "targets": N_("targets"),
    "previous_plan": N_("previous plan"),
    "stations": N_("stations"),
    "stops": N_("stops"),
    "travel_times": N_("travel times"),
}


def _sizes(sizes: dict[str, int]) -> str:
    """``posts 69, applicants 144, ...`` (the table names in the language of the moment)."""
    return ", ".join(
        f"{_(_TABLE_NAMES.get(k, k))} {v:,}" for k, v in sizes.items() if k != "counties"
    )


def print_plan(summary: PlanSummary, out: Path) -> None:
    """A short summary of a plan on the terminal."""
    c = summary.counts
    label = _(" [magenta](SYNTHETIC DATA)[/]") if summary.scenario.synthetic else ""
    title = _("Plan of {name}{label}", name=summary.scenario.name, label=label)
    table = Table(title=title, show_header=False)
    table.add_column(_("item"))
    table.add_column(_("value"), justify="right")
    table.add_row(_("status"), _(_STATUS.get(summary.status, summary.status)))
    table.add_row(_("objective"), f"{summary.objective:,.2f}")
    table.add_row(_("proven lower bound"), f"{summary.lower_bound:,.2f}")
    table.add_row(_("gap"), f"{summary.gap:.4%}")
    for k, v in summary.terms.to_dict().items():
        table.add_row(_("  term {term}", term=_(_TERMS.get(k, k))), f"{v:,.2f}")
    table.add_row(_("placed / applicants"), f"{c.placed:,} / {c.applicants:,}")
    table.add_row(
        _("quota units unfilled"),
        _("{n:,} of {total:,}", n=c.quota_unfilled_units, total=c.quota_units),
    )
    table.add_row(
        _("relay seats empty"),
        _("{n:,} of {total:,}", n=c.relay_empty_seats, total=c.relay_open_seats),
    )
    table.add_row(_("first preference"), f"{c.first_preference:,}")
    table.add_row(_("budget (CNY / year)"), f"{summary.budget_cny.total:,}")
    table.add_row(_("solve time"), _("{seconds:.1f} s", seconds=summary.total_seconds))
    if summary.pins is not None:
        table.add_row(_("pins"), ", ".join(f"{k} {v}" for k, v in summary.pins.items() if v))
    if summary.pins_cost is not None:
        table.add_row(_("price of the pins"), f"{summary.pins_cost:+,.2f}")
    console.print(table)
    console.print(_("plan written to [bold]{out}[/]", out=out))


_STATUS = {
    "optimal": N_("optimal"),
    "optimal within tolerance": N_("optimal within tolerance"),
    "gap open": N_("gap open"),
    "time-limit": N_("time-limit"),
}
_TERMS = {
    "relay_empty": N_("relay_empty"),
    "quota_unfilled": N_("quota_unfilled"),
    "preference": N_("preference"),
    "major_mismatch": N_("major_mismatch"),
    "transport_subsidy": N_("transport_subsidy"),
    "replan_moves": N_("replan_moves"),
}
"""The objective's terms as the plan's summary names them (translated for the terminal)."""


@app.command(
    help=_("Assign applicants to posts under rules A1-A6; write assignments, seats, summary, xlsx.")
)
def plan(
    scenario: ScenarioArg,
    out: Annotated[Path, typer.Option("--out", help=_("Folder for the plan's files."))],
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit", help=_("Seconds for the solve; the best plan and its bound are kept.")
        ),
    ] = DEFAULT_TIME_LIMIT,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous", help=_("An earlier plan folder: re-plan with as few moves as possible.")
        ),
    ] = None,
    pins: Annotated[
        Path | None,
        typer.Option(
            "--pins",
            help=_(
                "The office's decisions, pins.csv (action,applicant_id,post_id; actions "
                "assign, forbid, close, exclude): the optimum under them, priced."
            ),
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help=_("The plan folder the pins were set on (default: the plan without them)."),
        ),
    ] = None,
    scheduler: SchedulerOpt = None,
    verbose: Verbose = False,
) -> None:
    """Assign applicants to posts under rules A1-A6; write assignments, seats, summary, xlsx."""
    _setup_logging(verbose)
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
    with _scheduler(scheduler):
        outcome = _run(scenario, out, options, _("validating, pricing and solving"))
    assert outcome.plan is not None
    print_plan(outcome.plan.summary, outcome.out)


@app.command(
    "map", help=_("Write a standalone, offline map.html of a plan (and report.png with --png).")
)
def map_(
    plan_dir: Annotated[
        Path,
        typer.Argument(help=_("A plan folder (planner plan / planner route)."), show_default=False),
    ],
    province: Annotated[
        str | None, typer.Option("--province", help=_("Six-digit province code: map only it."))
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help=_("The HTML file [default: PLAN_DIR/map.html]."))
    ] = None,
    tiles: Annotated[
        str | None,
        typer.Option(
            "--tiles",
            help=_(
                "Tile URL template ({z}/{x}/{y}); Gaode/Amap hosts get GCJ-02 data. "
                "Default: no tiles (works offline)."
            ),
        ),
    ] = None,
    png: Annotated[
        bool, typer.Option("--png", help=_("Also write the static overview report.png."))
    ] = False,
    verbose: Verbose = False,
) -> None:
    """Write a standalone, offline map.html of a plan (and report.png with --png)."""
    _setup_logging(verbose)
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


def print_routing(summary: RoutingSummary, out: Path) -> None:
    """Coverage per county and the routing totals on the terminal."""
    table = Table(title=_("Routing: coverage per county"))
    for col in (
        N_("county"),
        N_("townships met"),
        N_("demand"),
        N_("target"),
        N_("served"),
        N_("capacity"),
        N_("cap ≥ target"),
    ):
        table.add_column(_(col), justify="right")
    for c in summary.counties:
        table.add_row(
            c.county_code,
            f"{c.townships_met} / {c.townships}",
            f"{c.demand:,}",
            f"{c.target:,}",
            f"{c.served:,}",
            f"{c.staffed_capacity:,}",
            _("yes") if c.capacity_allows_targets else "[yellow]" + _("no") + "[/]",
        )
    console.print(table)
    console.print(
        _(
            "{routes:,} routes, {served:,} of {demand:,} clients served; townships at target: "
            "{met} / {townships} ({met_allowed} / {allowed} where capacity allows); "
            "unserved by reason: {reasons}; {seconds:.1f} s",
            routes=summary.routes,
            served=summary.served,
            demand=summary.demand,
            met=summary.townships_met,
            townships=summary.townships,
            met_allowed=summary.townships_met_where_capacity_allows,
            allowed=summary.townships_where_capacity_allows,
            reasons=dict(summary.unserved_by_reason),
            seconds=summary.seconds,
        )
    )
    console.print(_("routes written to [bold]{out}[/]", out=out))


@app.command(
    help=_("Route the service vehicles: routes.csv, routes.geojson, coverage.csv, summary.json.")
)
def route(
    scenario: ScenarioArg,
    out: Annotated[Path, typer.Option("--out", help=_("Folder for the routing files."))],
    plan_dir: Annotated[
        Path | None,
        typer.Option("--plan", help=_("A plan folder: crews from its mobile_service assignments.")),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help=_("Wall seconds for the whole solve."))
    ] = 60.0,
    seed: Annotated[int, typer.Option("--seed", help=_("Same seed, same routes."))] = 0,
    roads: Annotated[
        Path | None,
        typer.Option(
            "--roads", help=_("A road graph folder (planner roads build): drive on its roads.")
        ),
    ] = None,
    scheduler: SchedulerOpt = None,
    verbose: Verbose = False,
) -> None:
    """Route the service vehicles: routes.csv, routes.geojson, coverage.csv, summary.json."""
    _setup_logging(verbose)
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
    with _scheduler(scheduler):
        outcome = _run(scenario, out, options, _("validating and routing"))
    assert outcome.routes is not None
    print_routing(outcome.routes.summary, outcome.out)


def _run(scenario: str, out: Path, options: StageOptions, doing: str) -> StageOutcome:
    """Run the stages with a status line and progress bars; a scenario that cannot be
    solved prints its report and exits 1; what is printed next speaks as the files do."""
    from dataclasses import replace

    from api.core.stages import run_stages

    outcome = _guarded(
        scenario,
        doing,
        lambda bars: run_stages(scenario, out, replace(options, language=_EXPLICIT), bars.on_stage),
    )
    _speak(outcome.language)
    return outcome


def _guarded(scenario: str, doing: str, work: Callable[[_Bars], R]) -> R:
    """``work(bars)`` under progress bars; a scenario that cannot be solved prints its
    report and exits 1, a bad folder or value exits 1 with its message."""
    from planner import workers
    from planner.issues import ScenarioError

    try:
        with _progress() as progress:
            bars = _Bars(progress, doing)
            with workers.progress(bars):
                return work(bars)
    except ScenarioError as exc:
        print_report(exc.report, scenario)
        err.print(_(exc.message))
        raise typer.Exit(1) from None
    except (FileNotFoundError, ValueError) as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@app.command(
    help=_(
        "Plan a scenario under every combination of changed rules, weights or quotas; write "
        "sweep.csv (one row per plan) and sweep.html (a chart and a map of changed placements)."
    )
)
def sweep(
    scenario: ScenarioArg,
    out: Annotated[Path, typer.Option("--out", help=_("Folder for sweep.csv and sweep.html."))],
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            help=_(
                "KEY=V1,V2,...: rules.KEY or weights.KEY of scenario.toml, or "
                "quota_scale.PROVINCE (e.g. quota_scale.540000=1.1); repeat for a cross product."
            ),
        ),
    ],
    time_limit: Annotated[
        float, typer.Option("--time-limit", help=_("Seconds for each plan of the sweep."))
    ] = DEFAULT_TIME_LIMIT,
    scheduler: SchedulerOpt = None,
    verbose: Verbose = False,
) -> None:
    """Plan a scenario under every combination of changed rules, weights or quotas."""
    _setup_logging(verbose)
    from api.core.stages import run_sweep
    from planner.plan import AllocationParams
    from planner.sweep import Vary

    try:
        axes = [Vary.parse(v) for v in vary]
    except ValueError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    params = AllocationParams(time_limit=time_limit)
    with _scheduler(scheduler):
        outcome = _guarded(
            scenario,
            _("planning the variants"),
            lambda bars: run_sweep(scenario, axes, out, params, bars.on_stage, _EXPLICIT),
        )
    _speak(outcome.language)
    table = outcome.sweep.table
    shown = Table(title=_("Sweep of {name}", name=outcome.sweep.scenario.name))
    for col in (
        "variant",
        "changes",
        "status",
        "objective",
        "gap",
        "placed",
        "quota_unfilled",
        "budget_cny",
    ):
        shown.add_column(col, justify="left" if col in ("changes", "status") else "right")
    for row in table.itertuples(index=False):
        shown.add_row(
            str(row.variant),
            str(row.changes),
            str(row.status),
            f"{row.objective:,.2f}",
            f"{row.gap:.4%}",
            f"{row.placed:,}",
            f"{row.quota_unfilled:,}",
            f"{row.budget_cny:,}",
        )
    console.print(shown)
    page = outcome.page or "-"
    console.print(_("sweep written to {out} (page: {page})", out=outcome.out, page=page))
    if not table["optimal"].all():
        err.print(
            _(
                "{n} plan(s) NOT certified optimal within the time limit",
                n=int((~table["optimal"]).sum()),
            )
        )
        raise typer.Exit(1)


@app.command(
    help=_("Benchmark mode: solve a CVRP/VRPTW instance; the last line is `cost <number>`.")
)
def vrp(
    file: Annotated[Path, typer.Argument(help=_("A CVRPLIB .vrp or Solomon .txt instance."))],
    time_limit: Annotated[float, typer.Option("--time-limit", help=_("Seconds of search."))] = 30.0,
    out: Annotated[
        Path | None, typer.Option("--out", help=_("Write the routes as a VRPLIB .sol file."))
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help=_("pyvrp (default) or ortools."))
    ] = "pyvrp",
    seed: Annotated[int, typer.Option("--seed", help=_("Seed of the first search."))] = 0,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help=_(
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


@app.command(
    help=_("Run every stage that exists on the built-in data (western-2006, huaihua-screening).")
)
def demo(
    write: Annotated[
        Path | None,
        typer.Option(
            "--write", help=_("Write the built-in scenarios as folders into DIR and stop.")
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help=_("Where the demo's outputs go."))] = Path(
        "demo-output"
    ),
    verbose: Verbose = False,
) -> None:
    """Run every stage that exists on the built-in data (western-2006, huaihua-screening)."""
    _setup_logging(verbose)
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
        sizes = _sizes(scenario.data.table_sizes())
        console.print(_("validated in {seconds:.1f} s: {sizes}", seconds=dt, sizes=sizes))
        report_path = out / f"{name}-validation.json"
        report_path.write_text(scenario.report.to_json(), encoding="utf-8")
        console.print(_("validation report: {path}", path=report_path))
        console.print(_("scenario folder: {folder}", folder=folder))
        # the demo routes every declared vehicle, as `planner route` without --plan does
        with console.status(f"{name}…") as status:

            def on_stage(stage: str, progress: float, name: str = name) -> None:
                status.update(f"{name}: {_(_STAGES.get(stage, stage))}…")

            options = StageOptions(crews="declared", language=_EXPLICIT)
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


@app.command(
    help=_(
        "Write an empty scenario workbook in the language of --lang: a sheet per table, "
        "explained headers, lists, an example row."
    )
)
def template(
    out: Annotated[Path, typer.Option("--out", help=_("The workbook to write (.xlsx)."))],
) -> None:
    """Write an empty scenario workbook: a sheet per table, explained headers, lists, an
    example row."""
    from geodata.scenario_xlsx import write_template

    path = write_template(out, i18n.language())
    console.print(_("template written to [bold]{path}[/]", path=path))


@app.command(
    help=_(
        "Start the HTTP service: the JSON API, the office pages at /office and the index "
        "(settings from PLANNER_* variables; see docs/api.md)."
    )
)
def serve(
    host: Annotated[str, typer.Option("--host", help=_("Address to listen on."))] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help=_("Port to listen on."))] = 8000,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help=_("Log every request."))
    ] = False,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help=_(
                "Address of a reverse proxy whose X-Forwarded-For and X-Forwarded-Proto are "
                "believed (repeat for several; default PLANNER_TRUSTED_PROXIES, else none)."
            ),
        ),
    ] = None,
) -> None:
    """Start the HTTP service (settings from PLANNER_* variables; see docs/api.md)."""
    import uvicorn

    from api.core.settings import Settings
    from api.server.app import create_app

    _setup_logging(True)
    settings = Settings()
    if trusted_proxy:
        settings = settings.model_copy(update={"trusted_proxies": ",".join(trusted_proxy)})
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    console.print(
        _(
            "data in [bold]{folder}[/], database {url}; pages in {language} unless the browser "
            "asks for another language",
            folder=settings.data_dir.resolve(),
            url=_safe_url(settings.url),
            language=i18n.language(),
        )
    )
    if proxies:
        console.print(
            _("X-Forwarded-For and X-Forwarded-Proto believed from {proxies}", proxies=proxies)
        )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        # forwarded headers only from the proxies the operator named (uvicorn's default would
        # believe any client on 127.0.0.1, who could then choose its address)
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )


def _safe_url(url: str) -> str:
    """A database URL without its password (for the terminal)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


from api.decide_cli import diff_command, explain_command  # noqa: E402
from api.roads_cli import roads  # noqa: E402  (after the language is chosen, as its help is)

app.command(
    "explain",
    help=_("Why an applicant is where a plan put him, and the exact price of each preference."),
)(explain_command)
app.command(
    "diff",
    help=_("Who kept, changed, gained or lost a post between two plan folders."),
)(diff_command)

app.add_typer(roads, name="roads")

keys = typer.Typer(help=_("API keys of the HTTP service (stored hashed)."), no_args_is_help=True)
app.add_typer(keys, name="keys")


def _key_sessions() -> sessionmaker[Session]:
    from api.core.settings import Settings
    from api.db.session import make_engine, session_factory, upgrade

    settings = Settings()
    upgrade(settings.url)
    return session_factory(make_engine(settings.url))


@keys.command("create", help=_("Create a key and print it once (only its hash is stored)."))
def keys_create(
    role: Annotated[
        str,
        typer.Option("--role", help=_("national, viewer or province:CODE (e.g. 520000).")),
    ],
    name: Annotated[str, typer.Option("--name", help=_("Who holds the key."))] = "",
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from api.core.api_keys import KeyProblem, create_key

    with _key_sessions()() as session:
        try:
            row, key = create_key(session, role, name)
        except KeyProblem as exc:
            err.print(str(exc))
            raise typer.Exit(2) from None
        _record_key_event(session, "key-create", row.prefix, f"role {role}")
    console.print(
        _("key {prefix} ({role}) created; it is shown only now:", prefix=row.prefix, role=role)
    )
    sys.stdout.write(key + "\n")


_KEY_COLUMNS = (N_("prefix"), N_("role"), N_("name"), N_("created"), N_("revoked"))


@keys.command("list", help=_("List the keys (prefix, role, name, created, revoked)."))
def keys_list() -> None:
    """List the keys (prefix, role, name, created, revoked)."""
    from api.core.api_keys import list_keys

    with _key_sessions()() as session:
        rows = list_keys(session)
    table = Table(*(_(c) for c in _KEY_COLUMNS))
    for r in rows:
        role = f"province:{r.province}" if r.role == "province" else r.role
        revoked = f"{r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else ""
        table.add_row(r.prefix, role, r.name, f"{r.created_at:%Y-%m-%d %H:%M}", revoked)
    console.print(table)


@keys.command("revoke", help=_("Revoke a key: it stops working at once."))
def keys_revoke(prefix: Annotated[str, typer.Argument(help=_("The key's prefix."))]) -> None:
    """Revoke a key: it stops working at once."""
    from api.core.api_keys import KeyProblem, revoke_key

    with _key_sessions()() as session:
        try:
            revoke_key(session, prefix)
        except KeyProblem as exc:
            err.print(str(exc))
            raise typer.Exit(2) from None
        _record_key_event(session, "key-revoke", prefix, "revoked")
    console.print(_("key {prefix} revoked", prefix=prefix))


def _record_key_event(session: Session, action: str, prefix: str, detail: str) -> None:
    """Audit a key made or revoked on this machine (role ``cli``; the key itself never)."""
    import getpass

    from api.core.audit import Event, write

    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no password entry
        user = "unknown user"
    event = Event(action, "ok", address="local", role="cli", key_prefix=prefix, object_id=prefix)
    event.detail = f"{detail} by {user}"
    write(session, [event])


@app.command(
    help=_("The service's audit trail, newest first: who uploaded, planned, cancelled, downloaded.")
)
def audit(
    since: Annotated[
        str, typer.Option("--since", help=_("A span (30m, 12h, 1d, 2w) or an ISO time."))
    ] = "1d",
    action: Annotated[
        str | None, typer.Option("--action", help=_("Only this action (e.g. failed-auth)."))
    ] = None,
    province: Annotated[
        str | None, typer.Option("--province", help=_("Only keys of this province (520000)."))
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help=_("At most this many events."))] = 1000,
    json_out: Annotated[bool, typer.Option("--json", help=_("One JSON object per line."))] = False,
) -> None:
    """The service's audit trail, newest first: who uploaded, planned, cancelled, downloaded."""
    import json

    from api.core.audit import ACTIONS, parse_since, query
    from api.server.schemas import AuditPublic

    try:
        start = parse_since(since)
    except ValueError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    if action is not None and action not in ACTIONS:
        err.print(
            _(
                "--action {action!r}; expected one of {actions}",
                action=action,
                actions=", ".join(ACTIONS),
            )
        )
        raise typer.Exit(2)
    with _key_sessions()() as session:
        rows = [
            AuditPublic.model_validate(r)
            for r in query(session, start, None, action, province, limit)
        ]
    if json_out:
        for r in rows:
            sys.stdout.write(json.dumps(r.model_dump(mode="json"), ensure_ascii=False) + "\n")
        return
    # one line per event, fixed columns, so that grep and awk work on it; the machine words
    # (actions, outcomes, roles) stay as stored, the header is in the user's language
    line = "{:19}  {:11}  {:7}  {:>6}  {:15}  {:8}  {:15}  {:32}  {}\n"
    sys.stdout.write(_columns(line, [_(n) for n in _AUDIT_COLUMNS]))
    for r in rows:
        sys.stdout.write(
            line.format(
                f"{r.at:%Y-%m-%d %H:%M:%S}",
                r.action,
                r.outcome,
                "-" if r.status is None else r.status,
                r.role or "-",
                r.key_prefix or "-",
                r.address or "-",
                r.object_id or "-",
                (r.detail or "") + (f" x{r.count:,}" if r.count > 1 else ""),
            )
        )
    err.print(
        _("{n} event(s) since {start} UTC", n=len(rows), start=start.strftime("%Y-%m-%d %H:%M:%S"))
    )


_AUDIT_COLUMNS = (
    N_("time (UTC)"),
    N_("action"),
    N_("outcome"),
    N_("status"),
    N_("role"),
    N_("key"),
    N_("address"),
    N_("object"),
    N_("detail"),
)


def _columns(line: str, names: list[str]) -> str:
    """The header of a fixed-column listing; a column's width counts a wide (CJK) character
    as two, as a terminal shows it."""
    from rich.cells import cell_len

    fields = re.findall(r"\{:(>?)(\d+)\}", line)
    out = []
    for k, name in enumerate(names):
        if k >= len(fields):
            out.append(name)
            continue
        right, width = fields[k]
        pad = " " * max(int(width) - cell_len(name), 0)
        out.append(pad + name if right else name + pad)
    return "  ".join(out).rstrip() + "\n"


@app.command(
    help=_("Copy the service's database and data folder into DEST (safe while the server runs).")
)
def backup(
    dest: Annotated[Path, typer.Argument(help=_("A new, empty folder for the backup."))],
) -> None:
    """Copy the service's database and data folder into DEST (safe while the server runs)."""
    from api.core.backup import BackupProblem
    from api.core.backup import backup as run_backup
    from api.core.settings import Settings

    _setup_logging(False)
    try:
        manifest = run_backup(Settings(), dest)
    except BackupProblem as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    console.print(
        _(
            "backup of the {database} database (schema {revision}) and {n} file(s) in "
            "[bold]{dest}[/]",
            database=manifest.database,
            revision=manifest.revision,
            n=len(manifest.files),
            dest=dest,
        )
    )


@app.command(help=_("Bring a backup back into the configured, empty, data folder and database."))
def restore(
    source: Annotated[Path, typer.Argument(help=_("A folder written by `planner backup`."))],
) -> None:
    """Bring a backup back into the configured, empty, data folder and database."""
    from api.core.backup import BackupProblem
    from api.core.backup import restore as run_restore
    from api.core.settings import Settings

    _setup_logging(False)
    settings = Settings()
    try:
        manifest = run_restore(settings, source)
    except BackupProblem as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    console.print(
        _(
            "restored the backup of {created} into [bold]{folder}[/] ({database}); start the "
            "server with `planner serve`",
            created=manifest.created_at,
            folder=settings.data_dir,
            database=settings.url.split("@")[-1],
        )
    )


def main() -> None:
    """Entry point: run the app; turn unexpected errors into a short message. ``--lang`` may
    stand anywhere: it is taken out and given to the app first."""
    args = sys.argv[1:]
    lang = _argv_language(args)
    if lang is not None:
        k = args.index("--lang") if "--lang" in args else args.index(f"--lang={lang}")
        del args[k : k + (2 if args[k] == "--lang" else 1)]
        args = ["--lang", lang, *args]
    try:
        app(args=args)
    except KeyboardInterrupt:
        err.print(_("interrupted"))
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
