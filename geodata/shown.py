"""A plan's tables as people read them: places by name, coded values by label.

The plan folder's CSVs are for machines and keep codes (``bachelor``, ``520102``); the
workbook and the pages show the same rows to people: a coded column by its label in the
language of the moment (:mod:`planner.labels`), and a place code with its name beside it
(``520102`` and 南明区). A column of codes stays only where its header says it is a code
(县代码, 原因代码).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np
import pandas as pd

from planner import i18n
from planner.i18n import N_
from planner.labels import OUTPUT_COLUMNS, YES_NO, Vocabulary

__all__ = ["BLOCKED", "COLUMNS", "for_people", "place_name", "place_names"]

BLOCKED = Vocabulary(
    "why a post takes nobody",
    {
        "": N_("-"),
        "no-quota": N_("the county has no quota row"),
        "barred": N_("the county is barred (A2)"),
        "no-open-seat": N_("no open seat"),
        "quota-0": N_("the county's quota for this category is 0 (A2)"),
    },
)
"""``seats.csv`` ``blocked``."""

COLUMNS: dict[str, str] = {
    "county_name": N_("County"),
    "prefecture_name": N_("Prefecture"),
    "province_name": N_("Province"),
    "recruit_province": N_("Recruiting province code"),
    "recruit_province_name": N_("Recruiting province"),
    "service_province": N_("Service province code"),
    "service_province_name": N_("Service province"),
}
"""Headers of the columns :func:`for_people` adds or renames (templates)."""

_NAMED: dict[str, str] = {
    "county_code": "county_name",
    "recruit_province": "recruit_province_name",
    "service_province": "service_province_name",
    "province_code": "province_name",
}
"""A place-code column -> the column of its name that :func:`for_people` puts after it."""


@functools.cache
def place_names() -> Mapping[str, str]:
    """Code -> name of every built-in county, prefecture and province (GB/T 2260)."""
    from geodata.china import county_table

    table = county_table()
    names: dict[str, str] = {}
    for code, name in (
        *zip(table["province_code"], table["province_name"], strict=True),
        *zip(table["prefecture_code"], table["prefecture_name"], strict=True),
        *zip(table["code"], table["name"], strict=True),
    ):
        names.setdefault(str(code), str(name))
    return names


def place_name(code: object) -> str:
    """The name of a county, prefecture or province code (``""`` when unknown)."""
    return place_names().get(str(code), "")


def for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a plan table for people: coded columns as labels in the language of the
    moment, each place code followed by its name."""
    out = frame.copy()
    for column in out.columns:
        vocabulary = OUTPUT_COLUMNS.get(str(column))
        if str(column) == "blocked":
            vocabulary = BLOCKED
        if vocabulary is None:
            continue
        values = out[column]
        if values.dtype == bool or vocabulary is YES_NO:
            values = values.map(_flag)
        out[column] = [vocabulary.label(str(v)) if v is not None else "" for v in values]
    for code_column, name_column in _NAMED.items():
        if code_column in out.columns and name_column not in out.columns:
            names = place_names()
            at = list(out.columns).index(code_column) + 1
            shown = np.asarray([names.get(str(c), "") for c in out[code_column]], dtype=object)
            out.insert(at, name_column, shown)
    return out


def _flag(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    text = str(value)
    return {"True": "1", "False": "0", "1.0": "1", "0.0": "0"}.get(text, text)


i18n.name_places(place_name)  # texts of the core name their places: 江苏省（320000）
