"""Reading a finished plan's files for the API and the pages: tables with filters and pages, summary, map;
and a finished sweep's table and page.

Plan folders never change after the job that wrote them finished, so parsed tables and
rendered maps are cached (tables in memory keyed by file and mtime, maps as HTML files next
to the plan).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import io
import json
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pandas as pd

from api.core.errors import BadRequest, Failed, Forbidden, Invalid, NotFound
from geodata.planfolder import read_json_object, read_summary, read_sweep, read_table
from planner import i18n
from planner.i18n import N_, speaking
from planner.summaries import SummaryFile

log = logging.getLogger(__name__)

TABLES = {
    "assignments": "allocation",
    "unassigned": "allocation",
    "seats": "allocation",
    "coverage": "routing",
}
"""Tables served by the API and the stage that writes them."""
PROVINCE = re.compile(r"^\d{2}0000$")
COUNTY = re.compile(r"^\d{6}$")
_TEXT = re.compile(r"(_id|_code|_name|^reason.*|^category|^degree|^major_class|^recruit_province)$")


@lru_cache(maxsize=32)
def _read(path: Path, mtime_ns: int) -> pd.DataFrame:
    frame = read_table(path)
    for col in frame.columns:
        if _TEXT.search(col):
            continue
        numbers = pd.to_numeric(frame[col], errors="coerce")
        if len(frame) and not numbers.isna().any():
            frame[col] = numbers
    return frame


def _file(folder: Path, name: str, stage: str) -> Path:
    path = folder / name
    if not path.is_file():
        template = (
            N_(
                "this plan has no {name}: its scenario had no allocation stage (posts and applicants)"
            )
            if stage == "allocation"
            else N_(
                "this plan has no {name}: its scenario had no routing stage (stations and stops)"
            )
        )
        raise NotFound(template, name=name)
    return path


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a table after filtering."""

    frame: pd.DataFrame
    total: int
    offset: int
    limit: int

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready dicts."""
        data: list[dict[str, Any]] = json.loads(self.frame.to_json(orient="records"))
        return data

    def csv(self) -> str:
        """The rows as CSV text for people (:func:`csv_for_people`)."""
        return csv_for_people(self.frame)


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP, CSV
Injection)."""


def neutralised(value: Any) -> Any:
    """A text cell starting with one of :data:`FORMULA_TRIGGERS` with a leading single quote,
    so a spreadsheet shows it as text and runs nothing; numbers and other text unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_for_people(frame: pd.DataFrame, bom: bool = False) -> str:
    """A table as the CSV text a person downloads and opens in a spreadsheet, neutralised as
    OWASP's CSV Injection guidance says: a text cell starting with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return gets a leading ``'``, and every text cell is quoted (a
    separator inside a cell cannot start a new one). Number columns are written as numbers.

    The plan folder's own CSVs are not written this way: scripts and re-plans read them back,
    so they hold the values exactly (:mod:`geodata.planfolder`)."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(neutralised)
    buf = io.StringIO()
    if bom:
        buf.write("\ufeff")
    out.to_csv(buf, index=False, quoting=csv.QUOTE_NONNUMERIC)
    return buf.getvalue()


def table(
    folder: Path,
    name: str,
    province: str | None = None,
    county: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Page:
    """Rows ``offset .. offset+limit`` of a plan table, filtered by province or county code."""
    path = _file(folder, f"{name}.csv", TABLES[name])
    frame = _read(path, path.stat().st_mtime_ns)
    if province or county:
        if "county_code" not in frame.columns:
            raise BadRequest(
                N_("{name} has no county_code column; province and county filters do not apply"),
                name=name,
            )
        codes = frame["county_code"].astype(str)
        if province:
            if not PROVINCE.match(province):
                raise Invalid(
                    N_("province {province!r}; expected a code like 520000"), province=province
                )
            frame = frame[codes.str[:2] == province[:2]]
            codes = frame["county_code"].astype(str)
        if county:
            if not COUNTY.match(county):
                raise Invalid(
                    N_("county {county!r}; expected a 6-digit code like 520102"), county=county
                )
            frame = frame[codes == county]
    return Page(frame.iloc[offset : offset + limit], len(frame), offset, limit)


def summary(folder: Path) -> SummaryFile:
    """``summary.json`` of a plan, typed."""
    return read_summary(folder)


def budget(folder: Path) -> dict[str, Any]:
    """The allocation's budget per service and recruiting province (CNY per year)."""
    plan = summary(folder).plan
    if plan is None:
        raise NotFound(N_("this plan has no budget: its scenario had no allocation stage"))
    return plan.budget_cny.to_dict()


def routes_file(folder: Path) -> Path:
    """``routes.geojson`` of a plan."""
    return _file(folder, "routes.geojson", "routing")


def xlsx_file(folder: Path) -> Path:
    """``plan.xlsx`` of a plan."""
    return _file(folder, "plan.xlsx", "allocation")


_map_locks: dict[Path, threading.Lock] = {}
_map_guard = threading.Lock()


def _map_path(folder: Path, province: str | None) -> Path:
    if province is not None and not PROVINCE.match(province):
        raise Invalid(N_("province {province!r}; expected a code like 520000"), province=province)
    return folder / (f"map-{province}.html" if province else "map.html")


def cached_map(folder: Path, province: str | None) -> Path | None:
    """The map's HTML file when it was rendered already."""
    path = _map_path(folder, province)
    return path if path.is_file() else None


def map_html(folder: Path, province: str | None, language: str | None = None) -> Path:
    """The map of a plan (optionally one province) as a cached standalone HTML file, drawn in
    ``language`` (the plan's: its other files' language) when it is not drawn yet.

    Raises
    ------
    Failed
        Naming the file when the plan's files cannot be drawn.
    """
    path = _map_path(folder, province)
    if path.is_file():
        return path
    from maps import MapInputError, render_map

    with _map_guard:
        lock = _map_locks.setdefault(path, threading.Lock())
    with lock:
        if not path.is_file():
            t0 = time.perf_counter()
            try:
                with speaking(i18n.choose(language)):
                    html = render_map(folder, province=province)
            except MapInputError as exc:
                raise Failed(
                    N_("the plan's files cannot be drawn: {problem}"), problem=str(exc)
                ) from None
            tmp = path.with_suffix(".tmp")
            tmp.write_text(html, encoding="utf-8")
            tmp.replace(path)
            log.info("rendered %s in %.1f s", path, time.perf_counter() - t0)
    return path


_memory: OrderedDict[Path, bytes] = OrderedDict()
_memory_lock = threading.Lock()
MEMORY_BYTES = 256 * 1024**2
"""At most this many bytes of plan files (maps, summaries) are kept in memory (LRU)."""


def cached_bytes(path: Path) -> bytes | None:
    """A plan file's bytes if they are in memory and the file still exists (one ``stat``: a
    plan deleted through another server of the same data folder is not served from here)."""
    with _memory_lock:
        data = _memory.get(path)
        if data is not None:
            _memory.move_to_end(path)
    if data is not None and not path.exists():
        forget(path.parent)
        return None
    return data


def forget(folder: Path) -> None:
    """Drop from memory every file of ``folder`` (a plan or sweep that was deleted)."""
    with _memory_lock:
        for path in [p for p in _memory if p.is_relative_to(folder)]:
            del _memory[path]


def load_bytes(path: Path) -> bytes:
    """Read a plan file (written once, never changed) and keep it in memory.

    A map is a few hundred kB to a few MB; sending it from memory in one piece costs far less
    than streaming it from disk in chunks, each through the thread pool.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:  # deleted with its scenario meanwhile
        raise NotFound(N_("no plan {id!r}"), id=path.parent.name) from None
    with _memory_lock:
        _memory[path] = data
        while sum(map(len, _memory.values())) > MEMORY_BYTES and len(_memory) > 1:
            _memory.popitem(last=False)
    return data


def public_summary(path: Path) -> bytes:
    """``summary.json`` as the API serves it: every absolute server path in it (the
    scenario's ``source``) reduced to its last part (the scenario's id or workbook name);
    kept in memory like the file."""
    key = path.with_name(path.name + ".public")
    data = cached_bytes(key)
    if data is None:
        data = json.dumps(
            _without_paths(json.loads(path.read_bytes())), ensure_ascii=False, indent=2
        ).encode()
        with _memory_lock:
            _memory[key] = data
    return data


def _without_paths(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_paths(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_without_paths(v) for v in data]
    if isinstance(data, str) and (PurePosixPath(data).is_absolute() or PureWindowsPath(data).drive):
        return PureWindowsPath(data).name
    return data


def gzipped(path: Path) -> Path:
    """A gzip copy of a cached map next to it (made once; maps compress about 4x)."""
    gz = path.with_name(path.name + ".gz")
    if not gz.is_file():
        tmp = gz.with_name(f"{gz.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(gzip.compress(path.read_bytes(), compresslevel=6))
        tmp.replace(gz)
    return gz


# --- signed map links ------------------------------------------------------------------------


def _mac(secret: bytes, plan_id: str, province: str | None, expires: int, key: str) -> str:
    msg = f"map|{plan_id}|{province or ''}|{expires}|{key}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def sign_map(
    secret: bytes, plan_id: str, province: str | None, seconds: int, key: str
) -> tuple[int, str]:
    """Expiry (Unix seconds) and signature of a map link made by the key with prefix ``key``
    (the link works while that key does)."""
    expires = int(time.time()) + seconds
    return expires, _mac(secret, plan_id, province, expires, key)


def check_map_signature(
    secret: bytes, plan_id: str, province: str | None, expires: int, signature: str, key: str
) -> None:
    """Refuse (:class:`~api.core.errors.Forbidden`) unless the link is genuine and unexpired (whether its key still works is
    the caller's to check)."""
    if not hmac.compare_digest(_mac(secret, plan_id, province, expires, key), signature):
        raise Forbidden(N_("the map link's signature is not valid for this plan and province"))
    if expires < time.time():
        raise Forbidden(N_("the map link has expired; ask for a new one"))


# --- sweeps ----------------------------------------------------------------------------------

SWEEP_FILES = {"csv": "sweep.csv", "counties": "sweep_counties.csv", "page": "sweep.html"}
"""Files of a sweep folder the API serves, by the name of their link."""


def sweep_meta(folder: Path) -> dict[str, Any]:
    """``sweep.json`` of a sweep: the scenario, what was varied, time limit, gap tolerance."""
    return read_json_object(folder / "sweep.json")


def sweep_rows(folder: Path) -> list[dict[str, Any]]:
    """``sweep.csv`` as JSON-ready rows (one per plan, the base first), numbers as numbers."""
    frame = read_sweep(folder)[0]
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records"))
    return rows


def sweep_csv(folder: Path) -> str:
    """``sweep.csv`` for a person to download: :func:`csv_for_people`, with the BOM that makes
    a spreadsheet read it as UTF-8 (the file in the sweep folder stays as it was written)."""
    path = sweep_file(folder, "csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for column in frame.columns:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        if column != "changes" and len(frame) and not numbers.isna().any():
            frame[column] = numbers
    return csv_for_people(frame, bom=True)


def sweep_file(folder: Path, name: str) -> Path:
    """A file of a sweep (:data:`SWEEP_FILES`); :class:`~api.core.errors.NotFound` when the sweep has none (a page that
    could not be drawn: its reason is in the job's log)."""
    path = folder / SWEEP_FILES[name]
    if not path.is_file():
        raise NotFound(N_("this sweep has no {name}: see its job's log"), name=SWEEP_FILES[name])
    return path
