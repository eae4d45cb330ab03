"""What an office does without a shell: the template workbook and, for national keys, the keys.

- ``GET /office/template`` and ``GET /api/v1/template?lang=zh-CN|en``: the empty scenario
  workbook (:func:`geodata.scenario_xlsx.write_template`) in the page's (or the asked) language,
  named for people (``西部计划方案模板.xlsx``).
- ``/office/keys`` (national keys): list the keys, create one (shown once, on the page that
  answers the form), revoke one. Both forms carry the CSRF token and are audited
  (``key-create``, ``key-revoke``) as ``planner keys`` is.

The pages reuse :mod:`api.server.pages` (sessions, tokens, rendering).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.core.api_keys import Principal
from api.core.errors import Forbidden, Invalid
from api.server.common import XLSX, attachment
from api.server.deps import (
    AuditNote,
    CallerDep,
    SessionDep,
    SettingsDep,
    audited,
    session_principal,
)
from api.server.pages import PREFIX, CheckedForm, page, signed_in
from api.server.pages import CallerDep as PageCallerDep
from api.server.times import local_time
from api.services import keys
from geodata.shown import place_name
from planner import i18n
from planner.i18n import N_, _

office = APIRouter(prefix=PREFIX, include_in_schema=False)
template_api = APIRouter(prefix="/api/v1", tags=["scenarios"])

TEMPLATE_NAME = N_("Western Plan scenario template.xlsx")


def _template(lang: str) -> Response:
    with tempfile.TemporaryDirectory(prefix="westplan-template-") as tmp:
        from geodata.scenario_xlsx import write_template

        data = write_template(Path(tmp) / "template.xlsx", lang).read_bytes()
    name = i18n.render(TEMPLATE_NAME, lang=lang)
    return Response(data, media_type=XLSX, headers={"Content-Disposition": attachment(name)})


def _language(lang: str | None) -> str:
    if lang is None or not lang.strip():
        return i18n.language()
    chosen = i18n.normalize(lang)
    if chosen is None:
        raise Invalid(
            N_("language {lang!r}; expected one of {languages}"),
            lang=lang,
            languages=", ".join(i18n.LANGUAGES),
        )
    return chosen


LangQ = Annotated[str | None, Query(max_length=16, description="zh-CN or en")]


@template_api.get(
    "/template",
    name="api_template",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
def template_workbook(who: CallerDep, lang: LangQ = None) -> Response:
    """The empty scenario workbook to fill in (instructions, settings, a sheet per table,
    lists of the labels to choose from), in ``lang`` (default: ``Accept-Language``)."""
    return _template(_language(lang))


@office.get("/template", name="office_template")
def office_template(who: PageCallerDep, lang: LangQ = None) -> Response:
    """The template workbook in the page's language (or ``lang``)."""
    return _template(_language(lang))


# --- keys ----------------------------------------------------------------------------------


async def signed_in_national(who: Annotated[Principal, Depends(signed_in)]) -> Principal:
    """A signed-in national key (others: 403)."""
    if who.role != "national":
        raise Forbidden(N_("only a national key may manage keys"))
    return who


NationalDep = Annotated[Principal, Depends(signed_in_national)]
ROLE_CHOICES = (
    ("national", N_("national (every province)")),
    ("province", N_("province (one province only)")),
    ("viewer", N_("viewer (plans and maps only)")),
)


def _key_rows(session: Any, zone: str) -> list[dict[str, Any]]:
    rows = []
    for k in keys.all_keys(session):
        if k.role == "province":
            role = _("province {province}", province=_province_shown(k.province or ""))
        else:
            role = _(dict(ROLE_CHOICES).get(k.role, k.role))
        rows.append(
            {
                "prefix": k.prefix,
                "role": role,
                "name": k.name,
                "created": local_time(k.created_at, zone),
                "revoked": local_time(k.revoked_at, zone),
            }
        )
    return rows


def _province_shown(code: str) -> str:
    name = place_name(code)
    return f"{name} ({code})" if name else code


def _provinces() -> list[tuple[str, str]]:
    from geodata.china import county_table

    table = county_table()[["province_code", "province_name"]].drop_duplicates()
    return sorted((str(c), str(n)) for c, n in table.to_numpy().tolist())


def _keys_page(
    request: Request,
    settings: Any,
    session: Any,
    who: Principal,
    new_key: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return page(
        request,
        settings,
        "keys.html",
        who,
        status=status,
        keys=_key_rows(session, settings.time_zone),
        roles=[(code, _(text)) for code, text in ROLE_CHOICES],
        provinces=_provinces(),
        new_key=new_key,
    )


@office.get("/keys", response_class=HTMLResponse, name="office_keys")
def keys_page(
    request: Request, session: SessionDep, settings: SettingsDep, who: NationalDep
) -> HTMLResponse:
    """Every key (newest first), the form that makes one, a button that revokes one."""
    return _keys_page(request, settings, session, who)


@office.post("/keys", response_class=HTMLResponse, dependencies=[CheckedForm])
def create_key_form(
    request: Request,
    note: Annotated[AuditNote, Depends(audited("key-create", caller=session_principal))],
    session: SessionDep,
    settings: SettingsDep,
    who: NationalDep,
    role: Annotated[str, Form(max_length=20)] = "",
    province: Annotated[str, Form(max_length=6)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Make a key; the answer shows it once."""
    wanted = f"province:{province.strip()}" if role == "province" else role
    row, key = keys.make_key(session, wanted, name.strip())
    note.object_id, note.detail = row.prefix, f"role {wanted}"
    return _keys_page(request, settings, session, who, new_key=key, status=201)


@office.post("/keys/{prefix}/revoke", dependencies=[CheckedForm])
def revoke_key_form(
    prefix: str,
    note: Annotated[AuditNote, Depends(audited("key-revoke", caller=session_principal))],
    session: SessionDep,
    who: NationalDep,
) -> RedirectResponse:
    """Revoke a key (it stops working within the key cache's seconds)."""
    keys.revoke(session, prefix)
    note.object_id, note.detail = prefix, "revoked"
    return RedirectResponse(f"{PREFIX}/keys", status_code=303)
