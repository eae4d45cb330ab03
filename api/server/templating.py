"""The HTML of the service's pages: Jinja2 templates in ``api/server/templates``, rendered in
the language of the moment (their words are catalogue templates: ``{{ _("...") }}``, which
``make messages`` extracts like the code's)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

from planner.i18n import _

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["_"] = _
    return env


def render_template(name: str, **context: Any) -> str:
    """The template ``name`` filled with ``context``, its words in the language of the
    moment; every value is escaped unless marked safe."""
    return _environment().get_template(name).render(**context)
