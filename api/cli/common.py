"""What the command groups of ``planner`` share: the consoles, the arguments and options of
several commands, the logging set-up."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console

from planner.i18n import N_

console = Console()
err = Console(stderr=True)

ScenarioArg = Annotated[
    str,
    typer.Argument(
        help=N_(
            "Scenario folder, .zip, .xlsx workbook, or builtin:NAME (western-2006, "
            "huaihua-screening, tier-...)"
        ),
        show_default=False,
    ),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help=N_("Log what the solvers do."))]

SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help=N_(
            "Where the tasks run: tcp://HOST:8786 (a Dask scheduler), local:N (a Dask "
            "LocalCluster of N workers started here), processes:N or local (processes here). "
            "Default: $PLANNER_DASK_SCHEDULER, else local."
        ),
        show_default=False,
    ),
]


def setup_logging(verbose: bool) -> None:
    """Log warnings, or with ``verbose`` what the solvers do too."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
