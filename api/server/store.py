"""Services behind the routes: scenarios, jobs (plans and sweeps), plans and sweeps, scoped to
the caller.

Routes stay thin: they parse the request, call one function here and shape the answer.
Every lookup goes through the caller's :class:`~api.core.api_keys.Principal`, so a province key never
learns that another province's resource exists (404, as for an unknown id).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.core.api_keys import Principal
from api.core.settings import Settings
from api.db.models import JobRow, PlanRow, ScenarioRow, SweepRow, utcnow
from api.server import storage
from api.server.problems import ApiProblem
from api.server.results import forget as results_forget
from api.server.storage import job_log as job_log
from api.server.storage import plan_dir as plan_dir
from api.server.storage import scenario_dir as scenario_dir
from api.server.storage import sweep_dir as sweep_dir
from geodata.archive import ZipLimits, extract_zip, scenario_root
from geodata.limits import TOO_LARGE, ReadLimits, reading_limits
from geodata.scenario import load_scenario
from geodata.scenario_xlsx import SUFFIXES as WORKBOOK_SUFFIXES
from planner.geo import provinces_of
from planner.i18n import N_, Text
from planner.issues import Report
from planner.scenario import Scenario
from planner.sweep import Vary, VaryError, check_province, variants

log = logging.getLogger(__name__)

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


def new_id() -> str:
    """A fresh resource id (32 hex digits)."""
    return uuid.uuid4().hex


# --- files -----------------------------------------------------------------------------------


def scenario_source(settings: Settings, scenario_id: str) -> Path:
    """What the stages read of a stored scenario: its folder (``scenario.toml`` and the
    tables), or the workbook it was uploaded as (the one ``.xlsx`` in that folder)."""
    folder = scenario_dir(settings, scenario_id)
    if not folder.is_dir() or (folder / "scenario.toml").is_file():
        return folder  # (a folder that is gone: the stages say so)
    books = sorted(p for p in folder.iterdir() if p.suffix.lower() in WORKBOOK_SUFFIXES)
    return books[0] if books else folder


_ABSOLUTE_DIRS = re.compile(r"(?<![\w.:/])(?:/[^\s/'\"<>|]+)+/")
"""The folders of an absolute path in a text (``/srv/planner-data/plans/ID/``)."""
_ABSOLUTE_PATH = re.compile(r"""(?<![\w.~])/(?:[^\s/'"]+/)+[^\s'",:;)\]]*""")
"""An absolute path on the server (two or more parts, ``/a/b``)."""


def without_server_paths(text: str) -> str:
    """``text`` with the folders of every absolute path taken out (``/srv/data/plans/x.csv``
    reads ``x.csv``): what a job's log and error may show a caller."""
    return _ABSOLUTE_DIRS.sub("", text)


def public_text(text: str, settings: Settings) -> str:
    """A text for people without server paths: a place in the data folder is named from the
    folder on (``scenarios/ID``), any other absolute path reads ``…``."""
    for folder in (settings.data_dir.resolve(), settings.data_dir.absolute()):
        text = text.replace(f"{folder}/", "").replace(str(folder), "…")
    return _ABSOLUTE_PATH.sub("…", text)


def tail(path: Path, lines: int = 50, settings: Settings | None = None) -> list[str]:
    """The last ``lines`` lines of a text file (none when it does not exist), for people: no
    traceback line and no server path (:func:`public_text` with ``settings``, else
    :func:`without_server_paths`)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    shown = [
        public_text(line, settings) if settings is not None else without_server_paths(line)
        for line in text.splitlines()
        if not line.startswith(("Traceback ", "  File ", "    "))
    ]
    return shown[-lines:]


# --- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Upload:
    """One uploaded file as the route received it."""

    filename: str
    content_type: str | None
    stream: BinaryIO


def _copy_limited(
    src: BinaryIO, dest: Path, start: int, limit: int, what: Text, digest: Any = None
) -> int:
    """Copy ``src`` to ``dest``; 413 when ``start`` + its size passes ``limit``; return the size.
    ``digest`` (a hashlib object) is updated with the bytes copied."""
    written = 0
    with dest.open("wb") as out:
        while chunk := src.read(_CHUNK):
            if digest is not None:
                digest.update(chunk)
            written += len(chunk)
            if start + written > limit:
                raise ApiProblem(
                    413,
                    N_(
                        "{what} is larger than {limit:,} bytes (PLANNER_MAX_UPLOAD_BYTES); "
                        "upload a smaller scenario"
                    ),
                    what=what,
                    limit=limit,
                )
            out.write(chunk)
    return written


def validation(row: ScenarioRow) -> dict[str, Any]:
    """A stored scenario's validation report for an answer, its messages in the language of
    the moment (the row keeps them as templates: :meth:`~planner.issues.Report.to_data`)."""
    return Report.from_data(row.validation).to_dict()


def _first_errors(report: Report, n: int = 3) -> Text:
    """The first ``n`` errors as one text (``where: message; ...; and N more``)."""
    shown = [
        Text(N_("{where}: {message}"), {"where": i.cell or i.file, "message": i.text})
        for i in report.errors
    ]
    return _joined(shown, n)


def _joined(texts: list[Text], n: int) -> Text:
    """The first ``n`` texts as one (``a; b; ...; and N more``), each rendered in the
    reader's language."""
    fields: dict[str, Any] = {f"e{k}": t for k, t in enumerate(texts[:n])}
    template = "; ".join(f"{{e{k}}}" for k in range(len(fields)))
    more = len(texts) - n
    if more > 0:
        fields["more"] = Text(N_("and {n} more"), {"n": more})
        template += "; {more}"
    return Text(template, fields)


def _count_rows(root: Path, limit: int) -> None:
    for csv in sorted(root.rglob("*.csv")):
        rows = -1
        with csv.open("rb") as f:
            while chunk := f.read(_CHUNK):
                rows += chunk.count(b"\n")
        if rows > limit:
            raise ApiProblem(
                413,
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
    """415 when the file does not start as a zip (an .xlsx is one)."""
    with path.open("rb") as f:
        magic = f.read(4)
    if magic in _ZIP_MAGIC:
        return
    if not magic:
        raise ApiProblem(
            415,
            N_("file {file!r} is empty (0 bytes); save the file again and upload that"),
            file=up.filename,
        )
    if workbook and magic == _OLE_MAGIC:
        raise ApiProblem(
            415,
            N_(
                "file {file!r} is an Excel 97-2003 workbook (.xls); save it as an .xlsx "
                "workbook (Excel: Save As, Excel Workbook) and upload that"
            ),
            file=up.filename,
        )
    if workbook:
        raise ApiProblem(
            415,
            N_(
                "file {file!r} is not an Excel workbook (perhaps another kind of file renamed "
                "to .xlsx); expected an .xlsx workbook saved by Excel or WPS"
            ),
            file=up.filename,
        )
    raise ApiProblem(
        415,
        N_("file {file!r} is not a zip archive; expected a .zip of the scenario folder"),
        file=up.filename,
    )


def _check_archive(settings: Settings, path: Path, into: Path) -> None:
    """Extract the zip (or the workbook's zip) with the checks and limits of
    :func:`~geodata.archive.extract_zip`; 400 naming the problems when it is unsafe."""
    report = Report()
    limits = ZipLimits(max_total_bytes=settings.max_unzipped_bytes)
    if not extract_zip(path, into, report, limits):
        raise ApiProblem(
            400,
            N_("unsafe or unreadable zip: {problems}"),
            extra={"validation": report},
            problems=_first_errors(report),
        )


def _unpack_workbook(settings: Settings, work: Path, up: Upload, ctype: str, digest: Any) -> Path:
    """Write an uploaded workbook into ``work/x``; return its path. Its zip is checked as an
    uploaded zip is (members, sizes, ratio) before the workbook reader opens it."""
    if ctype not in WORKBOOK_TYPES:
        raise ApiProblem(
            415,
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


def _unpack(
    settings: Settings, work: Path, archive: Upload | None, files: list[Upload], digest: Any
) -> Path:
    """Write the upload into ``work``; return the folder that holds ``scenario.toml``, or the
    workbook. ``digest`` (a hashlib object) takes the uploaded bytes (of files sent one by one,
    each name and its bytes)."""
    limit = settings.max_upload_bytes
    if archive is not None:
        up = archive
        ctype = (up.content_type or "").split(";")[0].strip().lower()
        if _is_workbook(up, ctype):
            return _unpack_workbook(settings, work, up, ctype, digest)
        if ctype not in ZIP_TYPES:
            raise ApiProblem(
                415,
                N_(
                    "file {file!r} was sent as {ctype}; expected a .zip ({types}) or an .xlsx "
                    "workbook"
                ),
                file=up.filename,
                ctype=ctype or Text(N_("no content type")),
                types=", ".join(sorted(ZIP_TYPES)),
            )
        zip_path = work / "upload.zip"
        _copy_limited(up.stream, zip_path, 0, limit, _file_named(up), digest)
        _check_magic(zip_path, up, workbook=False)
        _check_archive(settings, zip_path, work / "x")
        zip_path.unlink()
        root = scenario_root(work / "x")
        if root is None:
            raise ApiProblem(
                422, N_("the zip holds no scenario.toml (at its top or in one folder)")
            )
        _count_rows(root, settings.max_rows)
        return root
    # the contract's files sent one by one as multipart fields named "files"
    root = work / "x"
    root.mkdir()
    total = 0
    for up in files:
        name = Path(up.filename or "").name
        if not name or name != up.filename or name.startswith("."):
            raise ApiProblem(
                400,
                N_("file name {name!r}; expected a plain name like posts.csv"),
                name=up.filename,
            )
        digest.update(name.encode() + b"\0")
        total += _copy_limited(up.stream, root / name, total, limit, Text(N_("the upload")), digest)
    if not (root / "scenario.toml").is_file():
        raise ApiProblem(422, N_("the files include no scenario.toml; send it with the tables"))
    _count_rows(root, settings.max_rows)
    return root


def _scope(scenario: Scenario) -> frozenset[str]:
    """Province codes of the counties the scenario serves (quotas, posts, stations, stops)."""
    s = scenario.data
    used = [
        t.county_code for t in (s.quotas, s.posts, s.stations, s.stops) if t is not None and len(t)
    ]
    if not used:
        return frozenset()
    return frozenset(provinces_of(np.concatenate(used)).tolist())


@dataclass(frozen=True, slots=True)
class Stored:
    """An upload's scenario: the one just stored, or (``existing``) the scenario the caller
    already has with the same bytes."""

    row: ScenarioRow
    existing: bool = False


def same_upload(session: Session, who: Principal, content_sha256: str) -> ScenarioRow | None:
    """The oldest stored scenario with these bytes that ``who`` sees, or None."""
    rows = session.scalars(
        select(ScenarioRow)
        .where(ScenarioRow.content_sha256 == content_sha256)
        .order_by(ScenarioRow.created_at)
    )
    return next((r for r in rows if who.sees(provinces(r))), None)


def create_scenario(
    session: Session,
    settings: Settings,
    who: Principal,
    archive: Upload | None,
    files: list[Upload] | None = None,
) -> Stored:
    """Unpack, check and validate an upload (a zip, or the files one by one); keep it when valid.
    The same bytes uploaded again (SHA-256) are not stored twice: the answer is the scenario
    the caller already has (``existing``).

    Raises
    ------
    ApiProblem
        413 too large, 415 not a zip, 400 unsafe zip, 422 invalid (with the full report),
        403 when a province key uploads another province's scenario.
    """
    files = files or []
    if archive is None and not files:
        raise ApiProblem(
            422, N_("no file: send the zip or the .xlsx workbook as multipart field 'file'")
        )
    storage.check_quota(session, settings, who.key_id, 0)  # a full key uploads nothing more
    sid = new_id()
    work = settings.data_dir / "tmp" / sid
    work.mkdir(parents=True)
    try:
        digest = hashlib.sha256()
        source = _unpack(settings, work, archive, files, digest)
        content = digest.hexdigest()
        with reading_limits(read_limits(settings)):
            result = load_scenario(source)
        _refuse_too_large(result.report)
        unreadable = [i for i in result.report.errors if i.rule == "not-a-workbook"]
        if unreadable:
            raise ApiProblem(415, unreadable[0].text, extra={"validation": result.report})
        if not result.valid:
            raise ApiProblem(
                422,
                N_("the scenario has {n} error(s): {errors}"),
                extra={"validation": result.report},
                n=len(result.report.errors),
                errors=_first_errors(result.report),
            )
        if source.is_file():  # a workbook: its tables were counted by the reader
            _check_table_sizes(result.data.table_sizes(), settings.max_rows)
        scope = _scope(result)
        if who.role == "province" and not who.sees(scope):
            raise ApiProblem(
                403,
                N_(
                    "this key may upload only scenarios whose service counties all lie in "
                    "province {province}; this one serves province(s) {others}"
                ),
                province=who.province,
                others=", ".join(sorted(scope - {who.province or ""})) or "-",
            )
        same = same_upload(session, who, content)  # checked as a new upload was, first
        if same is not None:
            log.info("scenario %s uploaded again: same bytes as %s", sid, same.id)
            return Stored(same, existing=True)
        kept = storage.keep_used(source)  # only what the planner reads
        storage.check_quota(session, settings, who.key_id, kept)
        dest = scenario_dir(settings, sid)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source.parent if source.is_file() else source), dest)
        s = result.data
        row = ScenarioRow(
            id=sid,
            name=s.name,
            year=s.year,
            synthetic=s.synthetic,
            filename=archive.filename if archive is not None else "(files)",
            provinces=",".join(sorted(scope)),
            tables=s.table_sizes(),
            validation=result.report.to_data(),
            stored_bytes=kept,
            created_by=who.key_id,
            content_sha256=content,
        )
        session.add(row)
        session.commit()
        log.info("scenario %s (%s) stored", sid, s.name)
        return Stored(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_limits(settings: Settings) -> ReadLimits:
    """The limits an upload is read under (:mod:`geodata.limits`)."""
    return ReadLimits(
        max_rows=settings.max_rows,
        max_line_bytes=settings.max_line_bytes,
        max_cell_chars=settings.max_cell_chars,
        max_columns=settings.max_columns,
    )


def _refuse_too_large(report: Report) -> None:
    """413 naming the file and the limit when a table was too large to be read."""
    found = [i for i in report.errors if i.rule == TOO_LARGE]
    if found:
        raise ApiProblem(413, found[0].text, extra={"validation": report})


def _check_table_sizes(sizes: dict[str, int], limit: int) -> None:
    """413 when a table of a workbook has more rows than ``PLANNER_MAX_ROWS`` (the counties
    are the service's own geography, not the workbook's)."""
    for key, rows in sizes.items():
        if rows > limit and key != "counties":
            raise ApiProblem(
                413,
                N_(
                    "table {table} has {rows:,} rows; at most {limit:,} are accepted per table "
                    "(PLANNER_MAX_ROWS)"
                ),
                table=key,
                rows=rows,
                limit=limit,
            )


def provinces(row: ScenarioRow) -> frozenset[str]:
    """The scope of a scenario row."""
    return frozenset(p for p in row.provinces.split(",") if p)


def _visible(who: Principal, rows: Iterable[ScenarioRow]) -> set[str]:
    return {r.id for r in rows if who.sees(provinces(r))}


def list_scenarios(session: Session, who: Principal) -> list[ScenarioRow]:
    """The scenarios the caller sees, newest first."""
    rows = session.scalars(select(ScenarioRow).order_by(ScenarioRow.created_at.desc())).all()
    return [r for r in rows if who.sees(provinces(r))]


def get_scenario(session: Session, who: Principal, scenario_id: str) -> ScenarioRow:
    """One scenario, or 404 when unknown or outside the caller's province."""
    row = session.get(ScenarioRow, scenario_id)
    if row is None or not who.sees(provinces(row)):
        raise ApiProblem(404, N_("no scenario {id!r}"), id=scenario_id)
    return row


# --- jobs ------------------------------------------------------------------------------------

STATES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
FINAL = frozenset({"succeeded", "failed", "cancelled", "interrupted"})


def create_job(
    session: Session,
    settings: Settings,
    who: Principal,
    scenario_id: str,
    time_limit: float | None,
    previous_plan_id: str | None = None,
    language: str | None = None,
    pins: list[dict[str, str]] | None = None,
    baseline_plan_id: str | None = None,
    roads: str | None = None,
) -> JobRow:
    """Queue a plan job of a scenario the caller sees (a re-plan with ``previous_plan_id``;
    routes on the road network ``roads``, a name of :func:`api.core.roads.networks`);
    ``language`` is the language its files are written in (the person's who started it;
    ``None``: the server's ``PLANNER_LANG``, else the scenario's, else the system's).

    Raises
    ------
    ApiProblem
        404 for a scenario or previous plan the caller does not see; 422 when the previous
        plan has no allocation, or a pin row is incomplete (each row named), or ``roads`` is
        not a road network of the server (``api.core.errors.Invalid``).
    """
    get_scenario(session, who, scenario_id)
    options = _pin_options(session, settings, who, pins, baseline_plan_id)
    if roads is not None:
        from api.core.roads import resolve

        resolve(settings.roads_dir, roads)  # 422 naming it and the available ones
        options = {**(options or {}), "roads": roads}
    if previous_plan_id is not None:
        ref = plan_ref(session, who, previous_plan_id)
        if not (plan_dir(settings, ref.id) / "assignments.csv").is_file():
            raise ApiProblem(
                422,
                N_("plan {id!r} has no assignments; a re-plan needs an allocation plan"),
                id=ref.id,
            )
    return _queue(
        session,
        JobRow(
            scenario_id=scenario_id,
            time_limit=time_limit or settings.job_time_limit,
            previous_plan_id=previous_plan_id,
            language=language,
            created_by=who.key_id,
            options=options,
        ),
    )


def _pin_options(
    session: Session,
    settings: Settings,
    who: Principal,
    pins: list[dict[str, str]] | None,
    baseline_plan_id: str | None,
) -> dict[str, Any] | None:
    """A plan job's ``options`` for its pins (checked as ``pins.csv`` rows) and baseline."""
    if not pins:
        return None
    import pandas as pd

    from planner.pins import PIN_COLUMNS, PinError, Pins

    frame = pd.DataFrame([[p.get(c, "") for c in PIN_COLUMNS] for p in pins], columns=PIN_COLUMNS)
    try:
        Pins.from_frame(frame, "pins")
    except PinError as exc:
        first = exc.report.errors[0]
        raise ApiProblem(
            422, first.text, extra={"issues": [i.to_dict() for i in exc.report.errors]}
        ) from None
    options: dict[str, Any] = {"pins": frame.values.tolist()}
    if baseline_plan_id is not None:
        ref = plan_ref(session, who, baseline_plan_id)
        if not (plan_dir(settings, ref.id) / "assignments.csv").is_file():
            raise ApiProblem(
                422, N_("plan {id!r} has no assignments; pins need an allocation plan"), id=ref.id
            )
        options["baseline_plan_id"] = ref.id
    return options


def _queue(session: Session, job: JobRow) -> JobRow:
    """Store ``job`` as queued under a new id."""
    job.id, job.state, job.stage, job.progress = new_id(), "queued", "queued", 0.0
    session.add(job)
    try:
        session.commit()
    except IntegrityError:  # its scenario was deleted meanwhile
        session.rollback()
        raise ApiProblem(404, N_("no scenario {id!r}"), id=job.scenario_id) from None
    return job


def create_sweep_job(
    session: Session,
    settings: Settings,
    who: Principal,
    scenario_id: str,
    vary: list[str],
    time_limit: float | None,
    language: str | None = None,
) -> JobRow:
    """Queue a sweep job of a scenario the caller sees: the base and every variant of the
    ``vary`` axes (``KEY=V1,V2,...`` as ``planner sweep --vary``), each planned with
    ``time_limit`` seconds; ``language`` as in :func:`create_job`.

    Raises
    ------
    ApiProblem
        404 for a scenario the caller does not see; 422 naming every bad key or value, a
        key varied twice, a quota scale of a province the scenario does not serve, more
        variants than ``PLANNER_MAX_SWEEP_VARIANTS``, or a scenario without allocation
        tables.
    """
    row = get_scenario(session, who, scenario_id)
    if not (row.tables.get("posts") and row.tables.get("applicants")):
        raise ApiProblem(422, N_("the scenario has no allocation tables (posts, applicants)"))
    axes = check_vary(vary, provinces(row), settings.max_sweep_variants)
    plans = len(variants(axes)) + 1  # the base and every variant
    return _queue(
        session,
        JobRow(
            scenario_id=scenario_id,
            kind="sweep",
            options={"vary": [v.strip() for v in vary], "plans": plans},
            time_limit=time_limit or settings.job_time_limit,
            language=language,
            created_by=who.key_id,
        ),
    )


def check_vary(vary: list[str], scope: frozenset[str], limit: int) -> list[Vary]:
    """The axes of a sweep, checked as ``planner sweep`` checks them, before a job is queued.

    Raises
    ------
    ApiProblem
        422 naming every problem at once (:class:`~planner.sweep.VaryError`'s messages,
        in the request's language).
    """
    problems: list[Text] = []
    axes = []
    for text in vary:
        try:
            axis = Vary.parse(text)
            check_province(axis.key, scope)
            axes.append(axis)
        except VaryError as exc:
            problems.append(exc.text)
    if not vary:
        problems.append(Text(N_("no vary: give at least one KEY=V1,V2,...")))
    if not problems:
        count = math.prod(len(a.values) for a in axes)
        if count > limit:
            problems.append(
                Text(
                    N_(
                        "the sweep has {n:,} variants; at most {limit:,} are accepted "
                        "(PLANNER_MAX_SWEEP_VARIANTS)"
                    ),
                    {"n": count, "limit": limit},
                )
            )
        else:
            try:
                variants(axes)
            except VaryError as exc:
                problems.append(exc.text)
    if problems:
        raise ApiProblem(
            422,
            N_("the sweep cannot be planned: {problems}"),
            problems=_joined(problems, 10),
        )
    return axes


def _job_scenario(session: Session, job: JobRow) -> ScenarioRow:
    row = session.get(ScenarioRow, job.scenario_id)
    assert row is not None
    return row


def list_jobs(session: Session, who: Principal, scenario_id: str | None = None) -> list[JobRow]:
    """The caller's visible jobs, newest first (optionally of one scenario)."""
    q = select(JobRow).order_by(JobRow.created_at.desc())
    if scenario_id:
        q = q.where(JobRow.scenario_id == scenario_id)
    jobs = session.scalars(q).all()
    seen = _visible(who, session.scalars(select(ScenarioRow)).all())
    return [j for j in jobs if j.scenario_id in seen]


def get_job(session: Session, who: Principal, job_id: str) -> JobRow:
    """One job, or 404."""
    job = session.get(JobRow, job_id)
    if job is None or not who.sees(provinces(_job_scenario(session, job))):
        raise ApiProblem(404, N_("no job {id!r}"), id=job_id)
    return job


def cancel_job(session: Session, who: Principal, job_id: str) -> JobRow:
    """Mark a queued or running job cancelled (the runner then kills its worker).

    Raises
    ------
    ApiProblem
        409 when the job has already finished.
    """
    job = get_job(session, who, job_id)
    if job.state in FINAL:
        raise ApiProblem(
            409, N_("job {id!r} has already finished ({state})"), id=job_id, state=job.state
        )
    job.state = "cancelled"
    job.stage = "cancelled"
    job.finished_at = utcnow()
    session.commit()
    return job


# --- plans -----------------------------------------------------------------------------------


def list_plans(session: Session, who: Principal) -> list[tuple[PlanRow, ScenarioRow]]:
    """The caller's visible plans with their scenarios, newest first."""
    q = (
        select(PlanRow, ScenarioRow)
        .join(ScenarioRow, PlanRow.scenario_id == ScenarioRow.id)
        .order_by(PlanRow.created_at.desc())
    )
    return [(p, s) for p, s in session.execute(q) if who.sees(provinces(s))]


@dataclass(frozen=True, slots=True)
class PlanRef:
    """What access checks and file reads need of a plan: its id and its scenario's scope."""

    id: str
    scenario_id: str
    provinces: frozenset[str]


_plan_refs: dict[str, PlanRef] = {}
"""Finished plans never change and ids are random, so their scope is cached for the process."""
_PLAN_REFS_MAX = 100_000


def cached_plan_ref(plan_id: str) -> PlanRef | None:
    """A plan's id and scope when this process has seen it (no I/O)."""
    return _plan_refs.get(plan_id)


def check_plan(ref: PlanRef, who: Principal | None) -> PlanRef:
    """``ref`` if the caller sees it, else 404 (``who=None`` only for a verified signed link)."""
    if who is not None and not who.sees(ref.provinces):
        raise ApiProblem(404, N_("no plan {id!r}"), id=ref.id)
    return ref


def plan_ref(session: Session, who: Principal | None, plan_id: str) -> PlanRef:
    """A plan's id and scope (cached), or 404 when unknown or outside the caller's province.

    ``who=None`` only for a verified signed link.
    """
    ref = _plan_refs.get(plan_id)
    if ref is None:
        row = session.execute(
            select(PlanRow.scenario_id, ScenarioRow.provinces)
            .join(ScenarioRow, PlanRow.scenario_id == ScenarioRow.id)
            .where(PlanRow.id == plan_id)
        ).first()
        if row is None:
            raise ApiProblem(404, N_("no plan {id!r}"), id=plan_id)
        ref = PlanRef(plan_id, row[0], frozenset(p for p in row[1].split(",") if p))
        if len(_plan_refs) >= _PLAN_REFS_MAX:
            _plan_refs.clear()
        _plan_refs[plan_id] = ref
    return check_plan(ref, who)


def get_plan(session: Session, who: Principal | None, plan_id: str) -> PlanRow:
    """One plan, or 404 (``who=None`` only for a verified signed link)."""
    plan = session.get(PlanRow, plan_id)
    if plan is None:
        raise ApiProblem(404, N_("no plan {id!r}"), id=plan_id)
    if who is not None:
        scenario = session.get(ScenarioRow, plan.scenario_id)
        assert scenario is not None
        if not who.sees(provinces(scenario)):
            raise ApiProblem(404, N_("no plan {id!r}"), id=plan_id)
    return plan


def plan_language(session: Session, plan_id: str) -> str | None:
    """The language a plan's files were written in (its job's), None when not recorded (a
    plan made before jobs recorded it: the server's default then)."""
    found = session.execute(
        select(JobRow.language)
        .join(PlanRow, PlanRow.job_id == JobRow.id)
        .where(PlanRow.id == plan_id)
    ).scalar_one_or_none()
    return found


# --- sweeps ----------------------------------------------------------------------------------


def list_sweeps(session: Session, who: Principal) -> list[tuple[SweepRow, ScenarioRow]]:
    """The caller's visible sweeps with their scenarios, newest first."""
    q = (
        select(SweepRow, ScenarioRow)
        .join(ScenarioRow, SweepRow.scenario_id == ScenarioRow.id)
        .order_by(SweepRow.created_at.desc())
    )
    return [(w, s) for w, s in session.execute(q) if who.sees(provinces(s))]


def get_sweep(session: Session, who: Principal, sweep_id: str) -> tuple[SweepRow, ScenarioRow]:
    """One sweep and its scenario, or 404 when unknown or outside the caller's province."""
    found = session.execute(
        select(SweepRow, ScenarioRow)
        .join(ScenarioRow, SweepRow.scenario_id == ScenarioRow.id)
        .where(SweepRow.id == sweep_id)
    ).first()
    if found is None or not who.sees(provinces(found[1])):
        raise ApiProblem(404, N_("no sweep {id!r}"), id=sweep_id)
    return found[0], found[1]


# --- deleting a scenario ---------------------------------------------------------------------


_JOB_STATES = {"queued": N_("queued"), "running": N_("running")}
"""A busy job's state as words (the page's, in the reader's language)."""


@dataclass(frozen=True, slots=True)
class Deleted:
    """What deleting a scenario removed."""

    scenario_id: str
    jobs: int
    plans: int
    sweeps: int
    bytes: int
    """Bytes of files removed: the scenario's, its plans', sweeps' and job logs'."""


def delete_scenario(
    session: Session, settings: Settings, who: Principal, scenario_id: str
) -> Deleted:
    """Delete a scenario the caller sees together with everything made from it: its jobs, its
    plans and sweeps (rows and files) and the jobs' logs. A plan cannot outlive its scenario:
    its tables hold the scenario's applicants, and the scenario's scope is what decides who
    may read it. The audit trail keeps its events.

    Raises
    ------
    ApiProblem
        404 for a scenario the caller does not see; 409 while a job of it is queued or
        running, or while a queued or running job re-plans from one of its plans (cancel it
        first, or wait for it to end).
    """
    row = get_scenario(session, who, scenario_id)
    # lock the row: a job queued from now on waits for this transaction (PostgreSQL), then
    # finds no scenario
    session.execute(select(ScenarioRow.id).where(ScenarioRow.id == row.id).with_for_update())
    jobs = session.scalars(select(JobRow).where(JobRow.scenario_id == row.id)).all()
    plans = session.scalars(select(PlanRow).where(PlanRow.scenario_id == row.id)).all()
    sweeps = session.scalars(select(SweepRow).where(SweepRow.scenario_id == row.id)).all()
    plan_ids = [p.id for p in plans]
    busy = [j for j in jobs if j.state not in FINAL]
    if plan_ids:
        busy += session.scalars(
            select(JobRow).where(
                JobRow.previous_plan_id.in_(plan_ids), JobRow.state.in_(("queued", "running"))
            )
        ).all()
    if busy:
        session.rollback()
        raise ApiProblem(
            409,
            N_(
                "scenario {id!r} cannot be deleted while job {job!r} is {state}; cancel the "
                "job or wait for it to end"
            ),
            id=row.id,
            job=busy[0].id,
            state=Text(_JOB_STATES.get(busy[0].state, busy[0].state)),
        )
    files = [scenario_dir(settings, row.id)]
    files += [plan_dir(settings, p) for p in plan_ids]
    files += [sweep_dir(settings, w.id) for w in sweeps]
    files += [job_log(settings, j.id) for j in jobs]
    size = sum(storage.bytes_under(f) for f in files if f.exists())
    for rows in (plans, sweeps, jobs):
        for r in rows:
            session.delete(r)
        session.flush()  # children before their parents (foreign keys)
    session.delete(row)
    session.commit()
    storage.remove(files)  # after the commit: a failed commit leaves everything as it was
    for plan_id in plan_ids:
        _plan_refs.pop(plan_id, None)
    for folder in files:
        results_forget(folder)
    log.info("scenario %s deleted with %d plan(s), %d sweep(s)", row.id, len(plans), len(sweeps))
    return Deleted(row.id, len(jobs), len(plans), len(sweeps), size)
