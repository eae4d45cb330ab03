"""A scenario uploaded as one Excel workbook through ``POST /api/v1/scenarios``: stored and
planned like a zip, its problems named by the cell Excel shows (``岗位!E4``), and files that
are no workbook, too large, unsafe or too long refused with a clear message."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.support.api import XLSX, Service, TinyService, running_service, tiny_service, zip_folder
from tests.support.workbooks import break_cell, workbook_of

OWN = "province:520000"


@dataclass(frozen=True)
class WorkbookService:
    """A running service with nothing uploaded, and the tiny scenario as a zh-CN workbook."""

    room: TinyService
    book: Path


@pytest.fixture(scope="module")
def workbook_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkbookService]:
    """A fresh service and the tiny scenario as the workbook ``方案.xlsx``."""
    with tiny_service(tmp_path_factory.mktemp("api-workbook")) as room:
        yield WorkbookService(room, workbook_of(room.tiny, room.tmp / "方案.xlsx"))


def _upload(
    svc: Service, data: bytes, name: str = "方案.xlsx", ctype: str = XLSX, role: str = OWN
) -> Any:
    return svc.client.post(
        "/api/v1/scenarios", files={"file": (name, data, ctype)}, headers=svc.headers(role)
    )


def test_a_workbook_is_stored_and_planned_like_its_zip(workbook_service: WorkbookService) -> None:
    svc: Service = workbook_service.room.svc
    book: Path = workbook_service.book
    r = _upload(svc, book.read_bytes())
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["validation"]["errors"] == 0
    zipped = svc.client.post(
        "/api/v1/scenarios",
        files={"file": ("tiny.zip", zip_folder(workbook_service.room.tiny), "application/zip")},
        headers=svc.headers(OWN),
    ).json()["id"]
    as_book, as_zip = (
        svc.client.get(f"/api/v1/scenarios/{i}", headers=svc.headers(OWN)).json()
        for i in (sid, zipped)
    )
    assert as_book["tables"] == as_zip["tables"]  # the same rows per table
    assert as_book["provinces"] == as_zip["provinces"] == ["520000"]
    assert as_book["filename"] == "方案.xlsx"
    # the stored workbook is what a plan job reads
    stored = svc.settings.data_dir / "scenarios" / sid / "方案.xlsx"
    assert stored.read_bytes() == book.read_bytes()
    jid = svc.client.post(f"/api/v1/scenarios/{sid}/plans", headers=svc.headers(OWN)).json()
    job = svc.wait(jid["job_id"], OWN)
    assert job["state"] == "succeeded", job
    summary = svc.client.get(
        f"/api/v1/plans/{job['plan_id']}/summary", headers=svc.headers(OWN)
    ).json()
    assert summary["counts"]["placed"] > 0
    # another province may not upload Guizhou's workbook
    other = _upload(svc, book.read_bytes(), role="province:530000")
    assert other.status_code == 403 and "520000" in other.json()["detail"]


def test_a_broken_workbook_names_the_cell(workbook_service: WorkbookService) -> None:
    svc: Service = workbook_service.room.svc
    broken = workbook_of(workbook_service.room.tiny, workbook_service.room.tmp / "broken.xlsx")
    cell = break_cell(broken, "岗位", 4, "岗位数", -2)
    r = _upload(svc, broken.read_bytes(), "broken.xlsx")
    assert r.status_code == 422, r.text
    body = r.json()
    issues = [i for i in body["validation"]["issues"] if i.get("cell") == cell]
    assert len(issues) == 1 and issues[0]["rule"] == "bad-value", body
    assert issues[0]["file"] == "岗位" and issues[0]["line"] == 4
    assert cell in body["detail"]
    # nothing was kept
    listed = svc.client.get("/api/v1/scenarios", headers=svc.headers("national")).json()
    assert all(s["filename"] != "broken.xlsx" for s in listed)


def _renamed_zip(tiny: Path) -> bytes:
    return zip_folder(tiny)


@pytest.mark.parametrize(
    ("name", "data", "ctype", "status", "words"),
    [
        ("text.xlsx", b"name,seats\nA,1\n", XLSX, 415, "is not an Excel workbook"),
        ("old.xls.xlsx", b"\xd0\xcf\x11\xe0" + bytes(600), XLSX, 415, "Excel 97-2003"),
        ("方案.xlsx", None, "text/plain", 415, "expected an .xlsx workbook"),
        ("zip.xlsx", "zip", XLSX, 415, "as an Excel workbook"),
    ],
    ids=["text", "xls", "content-type", "a-zip-named-xlsx"],
)
def test_a_file_that_is_no_workbook_is_refused_clearly(
    workbook_service: WorkbookService, name: str, data: Any, ctype: str, status: int, words: str
) -> None:
    svc: Service = workbook_service.room.svc
    if data is None:
        data = workbook_service.book.read_bytes()
    elif data == "zip":
        data = _renamed_zip(workbook_service.room.tiny)
    r = _upload(svc, data, name, ctype)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"], r.json()
    assert name in r.json()["detail"] or ctype in r.json()["detail"]


def test_a_workbook_is_checked_as_a_zip_is(workbook_service: WorkbookService) -> None:
    """An .xlsx is a zip: a member that expands 1000-fold is refused before the workbook
    reader opens it, as in an uploaded zip."""
    svc: Service = workbook_service.room.svc
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook_service.book.read_bytes())) as src,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for item in src.infolist():
            out.writestr(item, src.read(item))
        out.writestr("xl/media/padding.bin", bytes(20 * 1024**2))
    r = _upload(svc, buf.getvalue(), "bomb.xlsx")
    assert r.status_code == 400, r.text
    assert "expands" in r.json()["detail"] and "padding.bin" in r.json()["detail"]


def test_workbook_limits(workbook_service: WorkbookService) -> None:
    svc: Service = workbook_service.room.svc
    book = workbook_service.book.read_bytes()
    tmp: Path = workbook_service.room.tmp
    small = svc.settings.model_copy(
        update={"max_upload_bytes": len(book) - 1, "data_dir": tmp / "small"}
    )
    with running_service(small) as limited:
        r = _upload(limited, book)
        assert r.status_code == 413 and "PLANNER_MAX_UPLOAD_BYTES" in r.json()["detail"]
    few = svc.settings.model_copy(update={"max_rows": 3, "data_dir": tmp / "few"})
    with running_service(few) as limited:
        r = _upload(limited, book)
        assert r.status_code == 413, r.text
        detail = r.json()["detail"]
        found = re.match(r"(\S+) has more than 3 data rows", detail)
        assert found and "PLANNER_MAX_ROWS" in detail, r.json()
        # the sheet named really holds more than 3 rows below its header (read by openpyxl)
        sheet = openpyxl.load_workbook(io.BytesIO(book), read_only=True)[found.group(1)]
        filled = [
            row
            for row in sheet.iter_rows(values_only=True)
            if any(v not in (None, "") for v in row)
        ]
        assert len(filled) - 1 > 3
