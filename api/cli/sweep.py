"""``planner sweep``: a scenario planned under every combination of changed rules, weights or
quotas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import ScenarioArg, SchedulerOpt, Verbose, console, err, setup_logging
from api.cli.language import Typer, asked_language, speak
from api.cli.running import guarded, on_scheduler
from planner.allocation.status import DEFAULT_TIME_LIMIT
from planner.i18n import N_, _

commands = Typer()


@commands.command(
    "sweep",
    help=N_(
        "Plan a scenario under every combination of changed rules, weights or quotas; write "
        "sweep.csv (one row per plan) and sweep.html (a chart and a map of changed placements)."
    ),
)
def sweep(
    ctx: typer.Context,
    scenario: ScenarioArg,
    out: Annotated[Path, typer.Option("--out", help=N_("Folder for sweep.csv and sweep.html."))],
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            help=N_(
                "KEY=V1,V2,...: rules.KEY or weights.KEY of scenario.toml, or "
                "quota_scale.PROVINCE (e.g. quota_scale.540000=1.1); repeat for a cross product."
            ),
        ),
    ],
    time_limit: Annotated[
        float, typer.Option("--time-limit", help=N_("Seconds for each plan of the sweep."))
    ] = DEFAULT_TIME_LIMIT,
    scheduler: SchedulerOpt = None,
    verbose: Verbose = False,
) -> None:
    """Plan a scenario under every combination of changed rules, weights or quotas."""
    setup_logging(verbose)
    from api.core.stages import run_sweep
    from planner.plan import AllocationParams
    from planner.sweep import Vary

    try:
        axes = [Vary.parse(v) for v in vary]
    except ValueError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    params = AllocationParams(time_limit=time_limit)
    asked = asked_language(ctx)
    with on_scheduler(scheduler):
        outcome = guarded(
            scenario,
            _("planning the variants"),
            lambda bars: run_sweep(scenario, axes, out, params, bars.on_stage, asked),
        )
    speak(outcome.language)
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
