"""Who goes where: one table of every placement and every unplaced applicant, one query.

:func:`query` searches (applicant, post, county, township, recruiting province, by code or
name), filters (county, category, reason), counts the facets of what it found (per county,
category and reason) and cuts one page, on the server. The office page
(``/office/plans/{id}/placements``), its workbook download (the filtered rows) and the JSON
answer (``GET /api/v1/plans/{id}/placements``) all call it: one code path, three faces. The
JSON keeps codes and adds the labels; the page and the workbook show labels and names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from api.services import results
from geodata.shown import place_names
from planner.allocation.account import UNPLACED
from planner.i18n import N_, render
from planner.labels import CATEGORY

PAGE_SIZE = 50
ALL = 1 << 40
MAX_PAGE_SIZE = 1000
COLUMNS = (
    "applicant_id",
    "placed",
    "post_id",
    "county_code",
    "county_name",
    "township_code",
    "township_name",
    "category",
    "recruit_province",
    "recruit_province_name",
    "reason_code",
    "reason",
)
HEADERS: dict[str, str] = {
    "applicant_id": N_("Applicant ID"),
    "placed": N_("Placed"),
    "post_id": N_("Post ID"),
    "county_code": N_("County code"),
    "county_name": N_("County"),
    "township_code": N_("Township code"),
    "township_name": N_("Township"),
    "category": N_("Category"),
    "recruit_province": N_("Recruiting province code"),
    "recruit_province_name": N_("Recruiting province"),
    "reason_code": N_("Reason code"),
    "reason": N_("Reason"),
}
"""What people call the columns (the page, the workbook)."""


@dataclass(frozen=True, slots=True)
class Filters:
    """What the office asked for; empty: everything."""

    q: str = ""
    county: str = ""
    category: str = ""
    reason: str = ""

    def params(self) -> dict[str, str]:
        """The non-empty filters, as query parameters."""
        return {k: v for k, v in (("q", self.q), ("county", self.county),
                                  ("category", self.category), ("reason", self.reason)) if v}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Found:
    """A page of the table, the number of rows that match and the facets of those rows."""

    rows: pd.DataFrame
    total: int
    page: int
    pages: int
    size: int
    facets: Mapping[str, list[tuple[str, int]]] = field(default_factory=dict)

    def items(self, lang: str | None = None) -> list[dict[str, Any]]:
        """The page's rows as JSON: codes, names, and the labels of the category and the
        reason in ``lang``."""
        out = []
        for row in self.rows.to_dict(orient="records"):
            item = {k: row[k] for k in COLUMNS}
            item["placed"] = bool(row["placed"])
            item["category_label"] = (
                CATEGORY.label(row["category"], lang) if row["category"] else ""
            )
            item["reason"] = row["reason"]
            out.append(item)
        return out


def reason_label(code: str, lang: str | None = None) -> str:
    """A reason code's meaning in ``lang`` for a facet (without the province it may name)."""
    if code == "placed":
        return render(N_("placed"), lang=lang)
    template = UNPLACED.get(code)
    return render(template, {"province": "…"}, lang) if template else code


def _table(folder: Path) -> pd.DataFrame:
    """Every placement and every unplaced applicant, one row each, codes as text."""
    a = results.table(folder, "assignments", limit=ALL).frame
    u = results.table(folder, "unassigned", limit=ALL).frame
    seats = results.table(folder, "seats", limit=ALL).frame
    township = dict(
        zip(seats["post_id"].astype(str), seats["township_name"].astype(str), strict=False)
    )
    names = place_names()
    placed = pd.DataFrame(
        {
            "applicant_id": a["applicant_id"].astype(str),
            "placed": True,
            "post_id": a["post_id"].astype(str),
            "county_code": a["county_code"].astype(str),
            "township_code": a["township_code"].astype(str),
            "category": a["category"].astype(str),
            "recruit_province": a["recruit_province"].astype(str),
            "reason_code": "",
            "reason": "",
        }
    )
    unplaced = pd.DataFrame(
        {
            "applicant_id": u["applicant_id"].astype(str),
            "placed": False,
            "post_id": "",
            "county_code": "",
            "township_code": "",
            "category": "",
            "recruit_province": "",
            "reason_code": u["reason_code"].astype(str),
            "reason": u["reason"].astype(str),
        }
    )
    frame = pd.concat([placed, unplaced], ignore_index=True)
    frame["county_name"] = [names.get(c, "") for c in frame["county_code"]]
    frame["township_name"] = [township.get(p, "") for p in frame["post_id"]]
    frame["recruit_province_name"] = [names.get(c, "") for c in frame["recruit_province"]]
    return frame


def query(folder: Path, filters: Filters, page: int = 1, size: int = PAGE_SIZE) -> Found:
    """The rows of the table that match ``filters``, their facets, and page ``page``."""
    frame = _table(folder)
    keep = np.ones(len(frame), dtype=bool)
    q = filters.q.strip().casefold()
    if q:
        searched = (
            "applicant_id",
            "post_id",
            "county_code",
            "county_name",
            "township_code",
            "township_name",
            "recruit_province",
            "recruit_province_name",
        )
        exact = (frame["applicant_id"].str.casefold() == q).to_numpy()
        if exact.any():  # an applicant's id: that applicant, not every id containing it
            keep &= exact
        else:
            hit = np.zeros(len(frame), dtype=bool)
            for column in searched:
                hit |= frame[column].str.casefold().str.contains(q, regex=False).to_numpy()
            keep &= hit
    if filters.county:
        keep &= (frame["county_code"] == filters.county).to_numpy()
    if filters.category:
        keep &= (frame["category"] == filters.category).to_numpy()
    if filters.reason:
        wanted = "" if filters.reason == "placed" else filters.reason
        keep &= (frame["reason_code"] == wanted).to_numpy()
        if filters.reason == "placed":
            keep &= frame["placed"].to_numpy(bool)
    found = frame[keep]
    facets = {
        "county": _counts(found["county_code"]),
        "category": _counts(found["category"]),
        "reason": _counts(found["reason_code"].where(found["reason_code"] != "", "placed")),
    }
    size = max(1, min(size, MAX_PAGE_SIZE))
    pages = max(1, math.ceil(len(found) / size))
    page = max(1, min(page, pages))
    rows = found.iloc[(page - 1) * size : page * size]
    return Found(rows, len(found), page, pages, size, facets)


def _counts(values: pd.Series) -> list[tuple[str, int]]:
    counted = values[values != ""].value_counts()
    return sorted(((str(k), int(n)) for k, n in counted.items()), key=lambda kv: (-kv[1], kv[0]))
