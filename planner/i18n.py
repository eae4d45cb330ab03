"""The languages of what a user reads: zh-CN and en, from gettext catalogues.

Every user-facing text (command-line output and help, validation messages, workbook headers,
map controls, the HTTP service's pages) is written in English in the code as a *template* with
named fields, marked for translation, and translated through the catalogue
``planner/locale/zh_CN/LC_MESSAGES/westplan.po``; Babel extracts the marked templates
(``make messages``), and a test fails when one has no translation::

    N_("found {found!r}; expected {what}")   # marks a template, translates nothing yet
    _("placed {n:,} of {total:,}", n=3, total=5)   # translated and filled now
    Text("found {found!r}; expected {what}", {"found": "-2", "what": ...})  # kept, filled
                                             # in the reader's language when shown

A field that is itself a :class:`Text` is rendered in the same language. Codes, ids, file
names, rule labels and column names are fields, never translated.

The language of the moment is a context variable (each HTTP request has its own):
:func:`use` sets it, :func:`language` reads it, and :func:`choose` picks it from the
candidates in order: ``--lang``, ``PLANNER_LANG``, the scenario's ``language``, the browser's
``Accept-Language``; without any, zh-CN when the system locale is Chinese, else en.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import io
import locale as _locale
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
"""The languages of the interface, as BCP 47 tags."""
DOMAIN = "westplan"
LOCALE_DIR = Path(__file__).parent / "locale"
ENV = "PLANNER_LANG"

_current: ContextVar[str | None] = ContextVar("planner_language", default=None)


def normalize(tag: str | None) -> str | None:
    """The interface language a tag asks for (``zh``, ``zh_CN.UTF-8``, ``zh-Hans`` -> zh-CN;
    ``en-GB`` -> en), or ``None`` when it names neither."""
    if not tag:
        return None
    base = re.split(r"[-_.@]", tag.strip().lower(), maxsplit=1)[0]
    return {"zh": "zh-CN", "en": "en"}.get(base)


def system_language() -> str:
    """zh-CN when the system locale is Chinese (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else
    en."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return normalize(value) or "en"
    found = _locale.getlocale()[0]
    return normalize(found) or "en"


def accept_language(header: str | None) -> str | None:
    """The best interface language of an HTTP ``Accept-Language`` header (by its q-values),
    or ``None`` when it asks for neither."""
    if not header:
        return None
    ranked = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        m = re.search(r"q\s*=\s*([0-9.]+)", params)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                q = 0.0
        lang = normalize(tag)
        if lang is not None and q > 0:
            ranked.append((-q, i, lang))
    return min(ranked)[2] if ranked else None


def choose(*candidates: str | None) -> str:
    """The first candidate that names an interface language; else ``PLANNER_LANG``; else the
    system's (:func:`system_language`). Callers pass, in order, what the user said
    (``--lang``), then what the data says (a scenario's ``language``, ``Accept-Language``)."""
    for candidate in (*candidates, os.environ.get(ENV)):
        lang = normalize(candidate)
        if lang is not None:
            return lang
    return system_language()


def choose_written(asked: str | None, scenario: str | None) -> str:
    """The language of what a run writes (plan folders, workbooks, maps): the user's
    (``--lang``, a job's, a page's), else ``PLANNER_LANG``, else the scenario's ``language``,
    else the language of the moment. (The environment comes before the scenario here: an
    office that sets ``PLANNER_LANG`` reads its files in it whatever the scenario says.)"""
    return normalize(asked) or normalize(os.environ.get(ENV)) or normalize(scenario) or language()


def language() -> str:
    """The language of the moment (:func:`use`), else :func:`choose`'s default."""
    return _current.get() or choose()


def use(lang: str) -> Token[str | None]:
    """Speak ``lang`` from now on in this context (thread, task, request)."""
    found = normalize(lang)
    if found is None:
        raise ValueError(f"language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return _current.set(found)


@contextmanager
def speaking(lang: str) -> Iterator[str]:
    """Speak ``lang`` inside the ``with`` block."""
    token = use(lang)
    try:
        yield _current.get() or lang
    finally:
        _current.reset(token)


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The catalogue of ``lang`` (English is the templates themselves), read from its ``.po``
    file: Babel parses it and writes the compiled catalogue in memory, so no build step."""
    if lang == "en":
        return _gettext.NullTranslations()
    po = LOCALE_DIR / lang.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang.replace("-", "_"), domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def N_(template: str) -> str:
    """Mark ``template`` for the catalogue without translating it (it is translated when a
    :class:`Text` or :func:`_` renders it)."""
    return template


def render(template: str, fields: Mapping[str, Any] | None = None, lang: str | None = None) -> str:
    """``template`` translated into ``lang`` (default: the language of the moment) and filled
    with ``fields``; fields that are :class:`Text` are rendered in the same language."""
    lang = lang or language()
    text = translations(lang).gettext(template)
    if not fields:
        return text
    values = {k: v.render(lang) if isinstance(v, Text | Place) else v for k, v in fields.items()}
    return text.format(**values)


def _(template: str, **fields: Any) -> str:
    """``template`` translated into the language of the moment and filled with ``fields``."""
    return render(template, fields)


def _n(singular: str, plural: str, n: int, **fields: Any) -> str:
    """The singular or plural template for ``n`` (by the language's plural rule), translated
    and filled with ``fields`` and ``n``."""
    lang = language()
    text = translations(lang).ngettext(singular, plural, n)
    values = {k: v.render(lang) if isinstance(v, Text | Place) else v for k, v in fields.items()}
    return text.format(n=n, **values)


@dataclass(frozen=True, slots=True)
class Text:
    """A template and its fields, rendered when it is read, in the reader's language."""

    template: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str | None = None) -> str:
        """The text in ``lang`` (default: the language of the moment)."""
        return render(self.template, self.fields, lang)

    def __str__(self) -> str:
        return self.render()

    def to_data(self) -> dict[str, Any]:
        """The text as JSON-ready data, to be rendered later in any language
        (:meth:`from_data`): the template and its fields, a field that is a text nested the
        same way. A field that is no number, string, list or text is kept as it shows
        (its ``str`` and ``repr``)."""
        return {"template": self.template, "fields": {k: _dump(v) for k, v in self.fields.items()}}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Text:
        """The text :meth:`to_data` stored."""
        return cls(data["template"], {k: _load(v) for k, v in data.get("fields", {}).items()})


_PLACE_NAMERS: list[Callable[[str], str]] = []


def name_places(namer: Callable[[str], str]) -> None:
    """Install ``namer`` (code -> name, ``""`` when unknown) to show the :class:`Place` fields
    of every text by name; ``geodata`` installs the geography's names when it is imported.
    The core knows codes only."""
    _PLACE_NAMERS[:] = [namer]


@dataclass(frozen=True, slots=True)
class Place:
    """A province, prefecture or county code inside a sentence for people: shown as its name
    and code (``江苏省（320000）``) when a namer is installed (:func:`name_places`) and knows
    the code, else as the code."""

    code: str

    def render(self, lang: str | None = None) -> str:
        """The place in ``lang`` (default: the language of the moment)."""
        name = _PLACE_NAMERS[0](self.code) if _PLACE_NAMERS else ""
        if not name:
            return self.code
        return render(N_("{name} ({code})"), {"name": name, "code": self.code}, lang)

    def __str__(self) -> str:
        return self.render()


class _Shown:
    """A stored field that was no plain value: it formats, converts and prints as the value
    did when it was stored."""

    __slots__ = ("_repr", "_str")

    def __init__(self, text: str, shown: str) -> None:
        self._str = text
        self._repr = shown

    def __str__(self) -> str:
        return self._str

    def __repr__(self) -> str:
        return self._repr

    def __format__(self, spec: str) -> str:
        return format(self._str, spec)


def _dump(value: Any) -> Any:
    """A field value as JSON-ready data (:meth:`Text.to_data`)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Text):
        return {"text": value.to_data()}
    if isinstance(value, Place):
        return {"place": value.code}
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [_dump(v) for v in value]}
    item = getattr(value, "item", None)  # a numpy scalar
    if callable(item) and getattr(value, "shape", None) == ():
        return _dump(item())
    return {"str": str(value), "repr": repr(value)}


def _load(data: Any) -> Any:
    """The field value :func:`_dump` stored."""
    if isinstance(data, list):
        return [_load(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "text" in data:
        return Text.from_data(data["text"])
    if "place" in data:
        return Place(str(data["place"]))
    if "tuple" in data:
        return tuple(_load(v) for v in data["tuple"])
    return _Shown(data["str"], data["repr"])
