"""``planner explain`` and ``planner diff``: an applicant's placement with the exact price of
each of his preferences, and two plan folders side by side (issue 25)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from planner.allocation.status import DEFAULT_TIME_LIMIT
from planner.i18n import _

console = Console()
err = Console(stderr=True)

PlanDir = Annotated[Path, typer.Argument(help=_("A plan folder (planner plan --out)."))]


def explain_command(
    plan_dir: PlanDir,
    applicant_id: Annotated[str, typer.Argument(help=_("The applicant's id."))],
    as_json: Annotated[bool, typer.Option("--json", help=_("Print JSON for machines."))] = False,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help=_("Seconds for each alternative's solve."))
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


def diff_command(
    plan_a: Annotated[Path, typer.Argument(help=_("The plan before (a plan folder)."))],
    plan_b: Annotated[Path, typer.Argument(help=_("The plan after (a plan folder)."))],
    out: Annotated[
        Path | None, typer.Option("--out", help=_("Write every row to this CSV file."))
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
