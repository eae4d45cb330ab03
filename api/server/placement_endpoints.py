"""Who goes where, served three ways from :func:`api.server.placements.query`: the office page
``/office/plans/{id}/placements`` (search, filters, facets, pages), its workbook (every row
that matches) and ``GET /api/v1/plans/{id}/placements`` (JSON pages)."""

from __future__ import annotations

import io
from typing import Annotated, Any
from urllib.parse import urlencode

import xlsxwriter
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.server.common import XLSX, attachment
from api.server.decision_pages import pending_rows
from api.server.deps import OfficeDep, SessionDep, SettingsDep, audited, session_principal
from api.server.pages import PREFIX, page
from api.server.pages import OfficeDep as PageOfficeDep
from api.server.placements import HEADERS, PAGE_SIZE, Filters, Found, query, reason_label
from api.server.times import local_date
from api.services import plans
from geodata.shown import place_name
from planner.i18n import _
from planner.labels import CATEGORY, PIN_ACTION

placement_pages = APIRouter(prefix=PREFIX, include_in_schema=False)
placement_api = APIRouter(prefix="/api/v1", tags=["plans"])

Q = Annotated[str, Query(max_length=100)]
Code = Annotated[str, Query(max_length=40)]
PageQ = Annotated[int, Query(ge=1, le=1_000_000)]
SizeQ = Annotated[int, Query(ge=1, le=1000)]


def filters(q: Q = "", county: Code = "", category: Code = "", reason: Code = "") -> Filters:
    """The search and filters of who goes where, as the page, its workbook and the JSON route
    take them: ``q`` searches applicant, post, county, township and recruiting province (code
    or name); ``county``, ``category`` and ``reason`` (a reason code, or ``placed``) filter."""
    return Filters(q, county, category, reason)


FiltersDep = Annotated[Filters, Depends(filters)]
SHOWN = (
    "applicant_id",
    "county_name",
    "township_name",
    "post_id",
    "category",
    "recruit_province_name",
    "reason",
)


@placement_api.get(
    "/plans/{plan_id}/placements",
    name="plan_placements",
    dependencies=[Depends(audited("download", "placements"))],
)
def placements_json(
    plan_id: str,
    session: SessionDep,
    settings: SettingsDep,
    who: OfficeDep,
    filters: FiltersDep,
    page: PageQ = 1,
    size: SizeQ = PAGE_SIZE,
) -> dict[str, Any]:
    """Every placement and every unplaced applicant (with the reason), searched by ``q``
    (applicant, post, county, township, recruiting province: code or name), filtered by
    ``county``, ``category`` and ``reason`` (a reason code, or ``placed``), one page of
    ``size`` rows; ``facets`` count the matching rows per county, category and reason."""
    plan = plans.plan_ref(session, who, plan_id)
    found = query(plans.plan_folder(settings, plan), filters, page, size)
    return {
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
        "size": found.size,
        "items": found.items(),
        "facets": {k: [{"value": v, "count": n} for v, n in c] for k, c in found.facets.items()},
    }


def _facet_links(found: Found, filters: Filters, base: str) -> dict[str, list[dict[str, Any]]]:
    """Each facet's values with their counts, labels and the link that filters by them."""
    label = {
        "county": lambda v: place_name(v) or v,
        "category": lambda v: CATEGORY.label(v),
        "reason": lambda v: reason_label(v),
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for name, counts in found.facets.items():
        out[name] = [
            {
                "label": label[name](value),
                "count": n,
                "url": f"{base}?{urlencode(filters.params() | {name: value})}",
                "current": getattr(filters, name) == value,
            }
            for value, n in counts
        ]
    return out


@placement_pages.get(
    "/plans/{plan_id}/placements", response_class=HTMLResponse, name="office_placements"
)
def placements_page(
    plan_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    who: PageOfficeDep,
    filters: FiltersDep,
    page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> Any:
    """Who goes where: search, filters with counts, one page of rows, the workbook."""
    plan = plans.plan_ref(session, who, plan_id)
    found = query(plans.plan_folder(settings, plan), filters, page_number)
    base = f"{PREFIX}/plans/{plan.id}/placements"
    rows = []
    for row in found.rows.to_dict(orient="records"):
        rows.append(
            {
                "applicant_id": row["applicant_id"],
                "county": row["county_name"] or row["county_code"],
                "county_code": row["county_code"],
                "township": row["township_name"] or row["township_code"],
                "post_id": row["post_id"],
                "category": CATEGORY.label(row["category"]) if row["category"] else "",
                "recruit": row["recruit_province_name"] or row["recruit_province"],
                "reason": row["reason"],
                "placed": bool(row["placed"]),
            }
        )

    def page_url(n: int) -> str:
        return f"{base}?{urlencode(filters.params() | {'page': str(n)})}"

    return page(
        request,
        settings,
        "placements.html",
        who,
        plan_id=plan.id,
        filters=filters,
        found=found,
        rows=rows,
        facets=_facet_links(found, filters, base),
        facet_names={
            "county": _("County"),
            "category": _("Category"),
            "reason": _("Placed or why not"),
        },
        clear_url=base,
        previous_url=page_url(found.page - 1) if found.page > 1 else None,
        next_url=page_url(found.page + 1) if found.page < found.pages else None,
        xlsx_url=f"{base}.xlsx?{urlencode(filters.params())}",
        pending=pending_rows(session, who, plan.id),
        decide_labels={code: PIN_ACTION.label(code) for code in PIN_ACTION.codes},
    )


@placement_pages.get(
    "/plans/{plan_id}/placements.xlsx",
    name="office_placements_xlsx",
    dependencies=[Depends(audited("download", "placements.xlsx", caller=session_principal))],
)
def placements_xlsx(
    plan_id: str,
    session: SessionDep,
    settings: SettingsDep,
    who: PageOfficeDep,
    filters: FiltersDep,
) -> Response:
    """The rows that match the filters (all of them, not one page) as a workbook."""
    row = plans.get_plan(session, who, plan_id)[1]
    plan = plans.plan_ref(session, who, plan_id)
    found = query(plans.plan_folder(settings, plan), filters, 1, 10**9)
    filename = _(
        "{scenario}-who goes where-{date}.xlsx",
        scenario=row.name,
        date=local_date(None, settings.time_zone),
    )
    return Response(
        _workbook(found),
        media_type=XLSX,
        headers={"Content-Disposition": attachment(filename)},
    )


def _workbook(found: Found) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    try:
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        sheet = book.add_worksheet(_("Who goes where")[:31])
        columns = (
            "applicant_id",
            "county_code",
            "county_name",
            "township_code",
            "township_name",
            "post_id",
            "category",
            "recruit_province",
            "recruit_province_name",
            "reason",
        )
        sheet.write_row(0, 0, [_(HEADERS[c]) for c in columns], head)
        for i, row in enumerate(found.rows.to_dict(orient="records"), start=1):
            values = [
                CATEGORY.label(row[c]) if c == "category" and row[c] else row[c] for c in columns
            ]
            for j, v in enumerate(values):
                sheet.write_string(i, j, str(v))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(found.total, 1), len(columns) - 1)
        for j in range(len(columns)):
            sheet.set_column(j, j, 16)
    finally:
        book.close()
    return buffer.getvalue()
