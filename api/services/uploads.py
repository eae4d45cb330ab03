"""An upload as the service receives it, unpacked and checked before it is read: content
types, the first bytes, the zip's members and sizes, the number of rows of each table.

Every refusal is a domain error (:mod:`api.core.errors`) naming the file and the limit:
:class:`~api.core.errors.TooLarge` over a limit, :class:`~api.core.errors.Unreadable` not a
zip or workbook, :class:`~api.core.errors.BadRequest` an unsafe zip or a file name that is not
a plain name, :class:`~api.core.errors.Invalid` no ``scenario.toml``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from api.core.errors import BadRequest, Invalid, TooLarge, Unreadable
from api.core.settings import Settings
from api.services.messages import first_errors
from geodata.archive import ZipLimits, extract_zip, scenario_root
from geodata.limits import TOO_LARGE, ReadLimits
from geodata.scenario_xlsx import SUFFIXES as WORKBOOK_SUFFIXES
from planner.i18n import N_, Text
from planner.issues import Report

ZIP_TYPES = frozenset(
    {
        "application/zip",
        "application/x-zip-compressed",
        "application/x-zip",
        "multipart/x-zip",
        "application/octet-stream",
    }
)
"""Content types accepted for the uploaded zip (browsers and curl send one of these)."""
WORKBOOK_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel.sheet.macroenabled.12",
        "application/octet-stream",
        "application/zip",
    }
)
"""Content types accepted for an uploaded workbook (an .xlsx is a zip inside)."""
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
"""The first bytes of an Excel 97-2003 .xls file (an OLE2 compound file)."""
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Upload:
    """One uploaded file as the handler received it."""

    filename: str
    content_type: str | None
    stream: BinaryIO


def read_limits(settings: Settings) -> ReadLimits:
    """The limits an upload is read under (:mod:`geodata.limits`)."""
    return ReadLimits(
        max_rows=settings.max_rows,
        max_line_bytes=settings.max_line_bytes,
        max_cell_chars=settings.max_cell_chars,
        max_columns=settings.max_columns,
    )


def _copy_limited(
    src: BinaryIO, dest: Path, start: int, limit: int, what: Text, digest: Any = None
) -> int:
    """Copy ``src`` to ``dest``; too large when ``start`` + its size passes ``limit``; return
    the size. ``digest`` (a hashlib object) is updated with the bytes copied."""
    written = 0
    with dest.open("wb") as out:
        while chunk := src.read(_CHUNK):
            if digest is not None:
                digest.update(chunk)
            written += len(chunk)
            if start + written > limit:
                raise TooLarge(
                    N_(
                        "{what} is larger than {limit:,} bytes (PLANNER_MAX_UPLOAD_BYTES); "
                        "upload a smaller scenario"
                    ),
                    what=what,
                    limit=limit,
                )
            out.write(chunk)
    return written


def _count_rows(root: Path, limit: int) -> None:
    for csv in sorted(root.rglob("*.csv")):
        rows = -1
        with csv.open("rb") as f:
            while chunk := f.read(_CHUNK):
                rows += chunk.count(b"\n")
        if rows > limit:
            raise TooLarge(
                N_(
                    "{file} has about {rows:,} data rows; at most {limit:,} are accepted "
                    "per table (PLANNER_MAX_ROWS)"
                ),
                file=csv.name,
                rows=rows,
                limit=limit,
            )


def _file_named(up: Upload) -> Text:
    return Text(N_("file {file!r}"), {"file": up.filename})


def _is_workbook(up: Upload, ctype: str) -> bool:
    """Whether an uploaded file is meant as a workbook (by its name or content type)."""
    named = Path(up.filename or "").suffix.lower() in WORKBOOK_SUFFIXES
    return named or (ctype in WORKBOOK_TYPES and ctype not in ZIP_TYPES)


def _check_magic(path: Path, up: Upload, workbook: bool) -> None:
    """Unreadable when the file does not start as a zip (an .xlsx is one)."""
    with path.open("rb") as f:
        magic = f.read(4)
    if magic in _ZIP_MAGIC:
        return
    if not magic:
        raise Unreadable(
            N_("file {file!r} is empty (0 bytes); save the file again and upload that"),
            file=up.filename,
        )
    if workbook and magic == _OLE_MAGIC:
        raise Unreadable(
            N_(
                "file {file!r} is an Excel 97-2003 workbook (.xls); save it as an .xlsx "
                "workbook (Excel: Save As, Excel Workbook) and upload that"
            ),
            file=up.filename,
        )
    if workbook:
        raise Unreadable(
            N_(
                "file {file!r} is not an Excel workbook (perhaps another kind of file renamed "
                "to .xlsx); expected an .xlsx workbook saved by Excel or WPS"
            ),
            file=up.filename,
        )
    raise Unreadable(
        N_("file {file!r} is not a zip archive; expected a .zip of the scenario folder"),
        file=up.filename,
    )


def _check_archive(settings: Settings, path: Path, into: Path) -> None:
    """Extract the zip (or the workbook's zip) with the checks and limits of
    :func:`~geodata.archive.extract_zip`; a bad request naming the problems when it is
    unsafe."""
    report = Report()
    limits = ZipLimits(max_total_bytes=settings.max_unzipped_bytes)
    if not extract_zip(path, into, report, limits):
        raise BadRequest(
            N_("unsafe or unreadable zip: {problems}"),
            extra={"validation": report},
            problems=first_errors(report),
        )


def _content_type(up: Upload) -> str:
    return (up.content_type or "").split(";")[0].strip().lower()


def _unpack_workbook(settings: Settings, work: Path, up: Upload, digest: Any) -> Path:
    """Write an uploaded workbook into ``work/x``; return its path. Its zip is checked as an
    uploaded zip is (members, sizes, ratio) before the workbook reader opens it."""
    ctype = _content_type(up)
    if ctype not in WORKBOOK_TYPES:
        raise Unreadable(
            N_("file {file!r} was sent as {ctype}; expected an .xlsx workbook ({types})"),
            file=up.filename,
            ctype=ctype or Text(N_("no content type")),
            types=", ".join(sorted(WORKBOOK_TYPES)),
        )
    name = Path(up.filename or "").name
    if Path(name).suffix.lower() not in WORKBOOK_SUFFIXES or name.startswith("."):
        name = "scenario.xlsx"
    root = work / "x"
    root.mkdir()
    book = root / name
    _copy_limited(up.stream, book, 0, settings.max_upload_bytes, _file_named(up), digest)
    _check_magic(book, up, workbook=True)
    _check_archive(settings, book, work / "check")
    shutil.rmtree(work / "check", ignore_errors=True)
    return book


def _unpack_zip(settings: Settings, work: Path, up: Upload, digest: Any) -> Path:
    """Write an uploaded zip into ``work`` and extract it; return the folder that holds
    ``scenario.toml``."""
    ctype = _content_type(up)
    if ctype not in ZIP_TYPES:
        raise Unreadable(
            N_("file {file!r} was sent as {ctype}; expected a .zip ({types}) or an .xlsx workbook"),
            file=up.filename,
            ctype=ctype or Text(N_("no content type")),
            types=", ".join(sorted(ZIP_TYPES)),
        )
    zip_path = work / "upload.zip"
    _copy_limited(up.stream, zip_path, 0, settings.max_upload_bytes, _file_named(up), digest)
    _check_magic(zip_path, up, workbook=False)
    _check_archive(settings, zip_path, work / "x")
    zip_path.unlink()
    root = scenario_root(work / "x")
    if root is None:
        raise Invalid(N_("the zip holds no scenario.toml (at its top or in one folder)"))
    _count_rows(root, settings.max_rows)
    return root


def _unpack_files(settings: Settings, work: Path, files: list[Upload], digest: Any) -> Path:
    """Write the contract's files sent one by one (multipart fields named ``files``) into
    ``work/x``; return that folder."""
    root = work / "x"
    root.mkdir()
    total = 0
    for up in files:
        name = Path(up.filename or "").name
        if not name or name != up.filename or name.startswith("."):
            raise BadRequest(
                N_("file name {name!r}; expected a plain name like posts.csv"),
                name=up.filename,
            )
        digest.update(name.encode() + b"\0")
        total += _copy_limited(
            up.stream, root / name, total, settings.max_upload_bytes, Text(N_("the upload")), digest
        )
    if not (root / "scenario.toml").is_file():
        raise Invalid(N_("the files include no scenario.toml; send it with the tables"))
    _count_rows(root, settings.max_rows)
    return root


def unpack(
    settings: Settings, work: Path, archive: Upload | None, files: list[Upload], digest: Any
) -> Path:
    """Write the upload into ``work``; return the folder that holds ``scenario.toml``, or the
    workbook. ``digest`` (a hashlib object) takes the uploaded bytes (of files sent one by one,
    each name and its bytes)."""
    if archive is None:
        return _unpack_files(settings, work, files, digest)
    if _is_workbook(archive, _content_type(archive)):
        return _unpack_workbook(settings, work, archive, digest)
    return _unpack_zip(settings, work, archive, digest)


def refuse_too_large(report: Report) -> None:
    """Too large, naming the file and the limit, when a table was too large to be read."""
    found = [i for i in report.errors if i.rule == TOO_LARGE]
    if found:
        raise TooLarge(found[0].text, extra={"validation": report})


def check_table_sizes(sizes: dict[str, int], limit: int) -> None:
    """Too large when a table of a workbook has more rows than ``PLANNER_MAX_ROWS`` (the
    counties are the service's own geography, not the workbook's)."""
    for key, rows in sizes.items():
        if rows > limit and key != "counties":
            raise TooLarge(
                N_(
                    "table {table} has {rows:,} rows; at most {limit:,} are accepted per table "
                    "(PLANNER_MAX_ROWS)"
                ),
                table=key,
                rows=rows,
                limit=limit,
            )
