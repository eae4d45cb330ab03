"""Running stages from the command line: on the scheduler chosen, under a status line and
progress bars, a scenario that cannot be solved printed as its report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from api.cli.common import console, err
from api.cli.language import speak
from api.cli.output import print_report
from planner.i18n import N_, _

if TYPE_CHECKING:
    from api.core.stages import StageOptions, StageOutcome

R = TypeVar("R")

STAGES = {
    "validation": N_("validation"),
    "allocation": N_("allocation"),
    "routing": N_("routing"),
    "map": N_("map"),
}
"""The stage runner's stages, for the status line."""

TASK_LABELS = {
    "county": N_("counties routed"),
    "proof": N_("county proofs"),
    "part": N_("allocation parts"),
    "variant": N_("variants planned"),
}
"""What the progress bars call the tasks of planner.workers, by label."""


@contextmanager
def on_scheduler(spec: str | None) -> Iterator[None]:
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


class Bars:
    """Rich progress bars: one line for the stage, one bar per kind of task (counties
    routed, variants planned ...), fed by :func:`planner.workers.progress`."""

    def __init__(self, progress: Progress, doing: str) -> None:
        self.progress, self.doing = progress, doing
        self.stage = progress.add_task(f"{doing}…", total=None)
        self.bars: dict[str, TaskID] = {}

    def on_stage(self, stage: str, _progress: float) -> None:
        self.progress.update(
            self.stage, description=f"{self.doing}: {_(STAGES.get(stage, stage))}…"
        )

    def __call__(self, label: str, done: int, total: int) -> None:
        if label not in TASK_LABELS:
            return
        bar = self.bars.get(label)
        if bar is None or (done == 0 and self.progress.tasks[bar].finished):
            bar = self.progress.add_task(_(TASK_LABELS[label]), total=total)
            self.bars[label] = bar
        self.progress.update(bar, completed=done, total=total)


def run(
    scenario: str, out: Path, options: StageOptions, doing: str, asked: str | None
) -> StageOutcome:
    """Run the stages with a status line and progress bars; a scenario that cannot be
    solved prints its report and exits 1; the files are written in ``asked`` (``--lang``), else
    the scenario's language, and what is printed next speaks as the files do."""
    from dataclasses import replace

    from api.core.stages import run_stages

    outcome = guarded(
        scenario,
        doing,
        lambda bars: run_stages(scenario, out, replace(options, language=asked), bars.on_stage),
    )
    speak(outcome.language)
    return outcome


def guarded(scenario: str, doing: str, work: Callable[[Bars], R]) -> R:
    """``work(bars)`` under progress bars; a scenario that cannot be solved prints its
    report and exits 1, a bad folder or value exits 1 with its message."""
    from planner import workers
    from planner.issues import ScenarioError

    try:
        with _progress_bars() as progress:
            bars = Bars(progress, doing)
            with workers.progress(bars):
                return work(bars)
    except ScenarioError as exc:
        print_report(exc.report, scenario)
        err.print(_(exc.message))
        raise typer.Exit(1) from None
    except (FileNotFoundError, ValueError) as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None


def _progress_bars() -> Progress:
    """The bars: a spinner, the task, a bar, done of total, the time elapsed."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
