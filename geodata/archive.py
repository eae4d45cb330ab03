"""Safe extraction of a scenario .zip.

A zip is checked from its central directory before a single byte is written: member paths
must stay inside the folder (no absolute paths, no ``..``, no links), the declared
uncompressed sizes must stay within the limits and the compression ratio must be plausible.
While extracting, the bytes actually written are counted again, so a zip that lies about its
sizes is stopped as well.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from planner.i18n import N_, Text
from planner.issues import Report

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Limits for an uploaded or handed-over scenario zip."""

    max_total_bytes: int = 2 * 1024**3
    """Sum of the members' uncompressed sizes."""
    max_members: int = 10_000
    max_ratio: float = 200.0
    """Uncompressed / compressed size of one member (CSV compresses ~10x, a bomb ~1000x)."""


def _unsafe_reason(name: str) -> Text | None:
    if "\\" in name:
        name = name.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return Text(N_("is an absolute path"))
    if ".." in path.parts:
        return Text(N_("climbs out of the folder with '..'"))
    return None


def extract_zip(
    zip_path: Path, dest: Path, report: Report, limits: ZipLimits | None = None
) -> bool:
    """Extract ``zip_path`` into ``dest`` if it passes every check.

    Returns
    -------
    bool
        True when extracted; False (with errors in ``report``, nothing left in ``dest``)
        otherwise.
    """
    limits = limits or ZipLimits()
    file = zip_path.name
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        report.error(
            file, None, None, "bad-zip", N_("not a readable zip file: {reason}"), reason=str(exc)
        )
        return False
    with zf:
        infos = zf.infolist()
        if not _members_safe(infos, file, limits, report):
            return False
        return _extract(zf, infos, dest, file, limits, report)


def _members_safe(
    infos: list[zipfile.ZipInfo], file: str, limits: ZipLimits, report: Report
) -> bool:
    """Whether the zip's members pass the checks made before extraction: their number, their
    paths (inside the folder, no links), their expansion ratios and their declared total."""
    ok = True
    if len(infos) > limits.max_members:
        report.error(
            file,
            None,
            None,
            "zip-members",
            N_("zip has {members} members; at most {limit} are accepted"),
            members=len(infos),
            limit=limits.max_members,
        )
        ok = False
    total = 0
    for info in infos:
        ok = _member_safe(info, file, limits, report) and ok
        total += info.file_size
    if total > limits.max_total_bytes:
        report.error(
            file,
            None,
            None,
            "zip-too-large",
            N_(
                "zip declares {total:,} bytes uncompressed; at most {limit:,} are accepted "
                "(refused before extraction)"
            ),
            total=total,
            limit=limits.max_total_bytes,
        )
        ok = False
    return ok


def _member_safe(info: zipfile.ZipInfo, file: str, limits: ZipLimits, report: Report) -> bool:
    """Whether one member's path is safe and its expansion ratio within the limit."""
    ok = True
    reason = _unsafe_reason(info.filename)
    mode = info.external_attr >> 16
    if reason is None and stat.S_ISLNK(mode):
        reason = Text(N_("is a symbolic link"))
    if reason:
        report.error(
            file,
            None,
            info.filename,
            "zip-path",
            N_("member {member!r} {reason}; expected paths inside the scenario folder"),
            member=info.filename,
            reason=reason,
        )
        ok = False
    if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
        report.error(
            file,
            None,
            info.filename,
            "zip-bomb",
            N_(
                "member {member!r} expands {ratio:,.0f}x ({compressed:,} -> {size:,} "
                "bytes); at most {limit:,.0f}x is accepted"
            ),
            member=info.filename,
            ratio=info.file_size / info.compress_size,
            compressed=info.compress_size,
            size=info.file_size,
            limit=limits.max_ratio,
        )
        ok = False
    return ok


def _extract(
    zf: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    dest: Path,
    file: str,
    limits: ZipLimits,
    report: Report,
) -> bool:
    """Write the checked members into ``dest``, counting the bytes really written (a zip may
    declare less than it holds); on failure nothing is left in ``dest``."""
    written = 0
    dest.mkdir(parents=True, exist_ok=True)
    try:
        for info in infos:
            target = dest / PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, target.open("wb") as out:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    if written > limits.max_total_bytes:
                        raise _TooLarge
                    out.write(chunk)
    except _TooLarge:
        report.error(
            file,
            None,
            None,
            "zip-too-large",
            N_("zip expands past {limit:,} bytes although it declares less; extraction stopped"),
            limit=limits.max_total_bytes,
        )
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        report.error(
            file, None, None, "bad-zip", N_("cannot extract the zip: {reason}"), reason=str(exc)
        )
    else:
        return True
    shutil.rmtree(dest, ignore_errors=True)
    return False


class _TooLarge(Exception):
    pass


def scenario_root(folder: Path) -> Path | None:
    """The folder holding ``scenario.toml``: ``folder`` itself or its single subfolder."""
    if (folder / "scenario.toml").is_file():
        return folder
    found = sorted(p.parent for p in folder.glob("*/scenario.toml"))
    return found[0] if len(found) == 1 else None
