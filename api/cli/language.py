"""The language of a ``planner`` run, decided in one place, and help texts rendered in it.

The top group (:class:`Group`, the one with the option ``--lang``) decides the run's language
in :meth:`Group.parse_args`, the hook Click calls with the command line before it parses
anything, so before it renders any help (``planner --help``, ``planner`` alone) or usage
error: :func:`split_language` finds ``--lang X`` anywhere on the line (it is put back in
front, where it is an option of the top group), :func:`decide_language` picks the language
(the option, else ``PLANNER_LANG``, else the system's locale), :func:`speak` speaks it, and
what the user asked is kept in the context's ``meta`` (shared by the sub-commands'
contexts), where :func:`asked_language` reads it: the files a run writes follow ``--lang``,
else the scenario's language.

Help texts are catalogue templates (``N_``), translated when the help is rendered
(:class:`Command`, :class:`Group`), so the language may be decided after the commands are
defined: importing the commands decides nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandFunctionType

from api.cli.common import err
from planner import i18n
from planner.i18n import N_, _

if TYPE_CHECKING:
    from typer._click import Command as ClickCommand
    from typer._click import Context, HelpFormatter, Parameter

ASKED = "planner.lang"
"""The key of ``ctx.meta`` holding the value of ``--lang`` (``None`` when not given)."""

TYPER_TEXTS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "DEFAULT_STRING": N_("[default: {}]"),
}
"""Typer's own words in its help panels (Click's "Usage:" stays as Click writes it)."""


def decide_language(asked: str | None) -> str:
    """The language of a run: ``asked`` (the value of ``--lang``), else ``PLANNER_LANG``,
    else the system's (:func:`planner.i18n.choose`).

    Raises
    ------
    ValueError
        ``asked`` names no interface language.
    """
    if asked is not None and i18n.normalize(asked) is None:
        raise ValueError(asked)
    return i18n.choose(asked)


def speak(lang: str) -> None:
    """Speak ``lang`` from now on: our texts through the catalogue, and Typer's help panels.

    Typer reads its panel titles and its ``[default: ...]``/``[required]`` words from
    module constants of :mod:`typer.rich_utils`, set once when Typer is imported (through
    the standard ``gettext`` domain, without a catalogue of ours) and offering no hook: neither
    ``typer.Typer`` nor Click's ``Context`` carries them (``rich_help_panel`` names a panel of
    one's own, not the default ones, and nothing names the error panel or the default's
    words). So they are set here, in this one place, whenever the language changes.
    """
    import typer.rich_utils as panels

    i18n.use(lang)
    for name, text in TYPER_TEXTS.items():
        setattr(panels, name, _(text))


def take_language(ctx: Context, asked: str | None) -> None:
    """Decide the run's language from ``asked`` (the value of ``--lang``, ``None`` when not
    given) and speak it; keep ``asked`` for :func:`asked_language`. An unknown language exits
    2 naming the languages expected."""
    try:
        lang = decide_language(asked)
    except ValueError:
        err.print(
            _(
                "--lang {lang!r}; expected one of {languages}",
                lang=asked,
                languages=", ".join(i18n.LANGUAGES),
            )
        )
        raise typer.Exit(2) from None
    speak(lang)
    ctx.meta[ASKED] = asked


def asked_language(ctx: typer.Context) -> str | None:
    """The language the user gave with ``--lang`` (the files follow it, else the
    scenario's), ``None`` when he gave none."""
    found = ctx.meta.get(ASKED)
    return found if isinstance(found, str) else None


def split_language(args: list[str]) -> tuple[str | None, list[str]]:
    """The value of ``--lang X`` or ``--lang=X`` (its first occurrence, anywhere in
    ``args``) and the other arguments; a ``--lang`` without a value is left in ``args``
    (Click then says that it needs one)."""
    for k, arg in enumerate(args):
        if arg == "--lang" and k + 1 < len(args):
            return args[k + 1], [*args[:k], *args[k + 2 :]]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1], [*args[:k], *args[k + 1 :]]
    return None, list(args)


C = TypeVar("C", bound="ClickCommand")


def _in_language(command: C, nested: bool = True) -> C:
    """A copy of ``command`` with its help texts (and its sub-commands' and options', when
    ``nested``) translated into the language of the moment; the commands are unchanged."""
    view = copy.copy(command)
    if command.help:
        view.help = _(command.help)
    if command.short_help:
        view.short_help = _(command.short_help)
    if nested:
        view.params = [_parameter_in_language(p) for p in command.params]
        if isinstance(command, TyperGroup) and isinstance(view, TyperGroup):
            view.commands = {n: _in_language(c, False) for n, c in command.commands.items()}
    return view


def _parameter_in_language(param: Parameter) -> Parameter:
    """A copy of an option or argument with its help translated."""
    text = getattr(param, "help", None)
    if not text:
        return param
    view = copy.copy(param)
    setattr(view, "help", _(text))  # noqa: B010 (click.Argument has no `help` attribute)
    return view


class Command(TyperCommand):
    """A command whose help is rendered in the language of the moment."""

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """Render the help of a translated copy (the help texts are templates)."""
        TyperCommand.format_help(_in_language(self), ctx, formatter)


class Group(TyperGroup):
    """A group whose help is rendered in the language of the moment, and which decides the
    run's language when it has the option ``--lang`` (the top group)."""

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """Render the help of a translated copy (the help texts are templates)."""
        TyperGroup.format_help(_in_language(self), ctx, formatter)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """Decide the run's language from ``--lang`` in ``args`` (:func:`take_language`)
        when the group has the option, before Click parses anything, so before it shows any
        help or usage error; then parse ``args`` with ``--lang`` in front, where it is an
        option of this group (its value is not looked at again)."""
        if any(p.name == "lang" for p in self.params):
            asked, args = split_language(args)
            take_language(ctx, asked)
            if asked is not None:  # an option of this group, wherever it was given
                args = ["--lang", asked, *args]
        return super().parse_args(ctx, args)


class Typer(typer.Typer):
    """A :class:`typer.Typer` whose group and commands render their help in the language of
    the moment (:class:`Group`, :class:`Command`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cls=Group, **kwargs)

    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        """Register a command (as :meth:`typer.Typer.command`) of the class :class:`Command`."""
        return super().command(*args, cls=Command, **kwargs)
