"""The ``planner`` command line, a package by command group.

``planner validate SCENARIO`` checks a scenario like an auditor; ``planner demo`` runs every
stage that exists on the built-in data. A user error prints a readable message and exits
with status 1 or 2, never a Python traceback.

Everything it prints, its help included, is in the language chosen by ``--lang`` (anywhere on
the command line), else ``PLANNER_LANG``, else the system's locale, decided once per run by
:mod:`api.cli.language`. The groups: :mod:`~api.cli.data` (validate, demo, template),
:mod:`~api.cli.plan` (plan, map, explain, diff), :mod:`~api.cli.route` (route, vrp),
:mod:`~api.cli.sweep`, :mod:`~api.cli.serve`, :mod:`~api.cli.admin` (keys, audit, backup,
restore) and :mod:`~api.cli.roads`; what they share is in :mod:`~api.cli.common`,
:mod:`~api.cli.output` and :mod:`~api.cli.running`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from api.cli import admin, data, plan, roads, route, serve, sweep
from api.cli.common import err
from api.cli.language import Typer
from planner.i18n import N_, _

app = Typer(
    help=N_(
        "Western Plan service-network planner (大学生志愿服务西部计划): validate, plan, route, map."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_ORDER = (
    "validate",
    "plan",
    "map",
    "route",
    "sweep",
    "vrp",
    "demo",
    "template",
    "serve",
    "explain",
    "diff",
    "audit",
    "backup",
    "restore",
)
"""The commands in the order ``planner --help`` lists them (then the groups roads, keys)."""


def _add_commands(groups: tuple[typer.Typer, ...]) -> None:
    """Add the commands of ``groups`` to the app, in the order of :data:`_ORDER`."""
    found = {c.name: c for g in groups for c in g.registered_commands if c.name}
    if set(found) != set(_ORDER):
        raise RuntimeError(f"commands {sorted(found)}; expected {sorted(_ORDER)}")
    app.registered_commands.extend(found[name] for name in _ORDER)


_add_commands(
    (data.commands, plan.commands, route.commands, sweep.commands, serve.commands, admin.commands)
)
app.add_typer(roads.roads, name="roads")
app.add_typer(admin.keys, name="keys")


@app.callback()
def _options(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help=N_(
                "Language of what is printed and written: zh-CN or en (default: PLANNER_LANG, else the system's)."
            ),
        ),
    ] = None,
) -> None:
    """The options of every command. ``--lang`` is found wherever it stands on the command
    line and decided before Click parses (:meth:`api.cli.language.Group.parse_args`); its
    value is not looked at here."""


def main() -> None:
    """Entry point: run the app; an interruption prints a short message and exits 130."""
    try:
        app()
    except KeyboardInterrupt:
        err.print(_("interrupted"))
        sys.exit(130)
