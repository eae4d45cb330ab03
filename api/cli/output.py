"""What several commands print: a validation report, a plan's summary and a routing's
summary (read by attribute from :mod:`planner.summaries`), the sizes of a scenario's tables."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.table import Table

from api.cli.common import console
from planner.i18n import N_, _
from planner.issues import Report, Severity
from planner.summaries import PlanSummary, RoutingSummary


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


def shown_sizes(sizes: dict[str, int]) -> str:
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
