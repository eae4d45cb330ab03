"""The settings of a scenario: ``scenario.toml`` (read and its lines found for messages), and
the checks of its settings wherever they come from (the file, a workbook's settings sheet, or
the ``settings`` given with DataFrames): the CRS, ``[rules]`` and ``[weights]`` against the
types and ranges of their defaults, the language, the year, and ``[routing]`` roads.

Nothing here raises on bad input: every problem goes to the report, naming the file, the line
where there is one, the key and the value expected.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from geodata import crs as crsmod
from planner import scenario as sc
from planner.i18n import N_, normalize
from planner.issues import Report

TOML = "scenario.toml"


TOP_KEYS = {
    "name",
    "year",
    "crs",
    "language",
    "synthetic",
    "description",
    "seed",
    "files",
    "rules",
    "weights",
    "routing",
}


def read_toml(root: Path, report: Report) -> dict[str, Any] | None:
    try:
        text = (root / TOML).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        report.error(TOML, None, None, "encoding", N_("{toml} is not UTF-8 text"), toml=TOML)
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        report.error(
            TOML,
            int(m.group(1)) if m else None,
            None,
            "toml-syntax",
            N_("invalid TOML: {reason}"),
            reason=str(exc),
        )
        return None


def toml_line(root: Path, key: str) -> int | None:
    """Line of ``key = ...`` in scenario.toml, for messages."""
    try:
        for n, text in enumerate((root / TOML).read_text(encoding="utf-8-sig").splitlines(), 1):
            if re.match(rf"\s*{re.escape(key)}\s*=", text):
                return n
    except (OSError, UnicodeDecodeError):
        return None
    return None


LineOf = Callable[[str], int | None]
"""The line where a setting is written (``None`` where settings have no lines)."""


def declared_crs(value: Any, report: Report, line_of: LineOf, file: str) -> str:
    if value not in crsmod.CRS_NAMES:
        report.error(
            file,
            line_of("crs"),
            "crs",
            "bad-crs",
            N_("crs = {value!r}; expected one of {names}"),
            value=value,
            names=", ".join(crsmod.CRS_NAMES),
        )
        return "wgs84"
    return str(value)


def _whole(x: float) -> float:
    """``x`` as an int when it is whole (10000.0 is shown as 10,000)."""
    return int(x) if float(x).is_integer() else x


def _numbers_within(value: Any, span: tuple[float, float]) -> bool:
    """Whether ``value`` (a number or a list of numbers) is finite and within ``span``; a value
    of another type is the type check's to name."""
    for v in value if isinstance(value, list | tuple) else [value]:
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        if not (math.isfinite(v) and span[0] <= v <= span[1]):
            return False
    return True


def rules_and_weights(
    doc: Mapping[str, Any], report: Report, line_of: LineOf, file: str
) -> tuple[sc.Rules, sc.Weights]:
    """The ``[rules]`` and ``[weights]`` of a scenario, each value checked against the type of
    its default; then the language, the year and the rules that hang together."""
    rules = _section(doc, "rules", sc.Rules, report, line_of, file)
    weights = _section(doc, "weights", sc.Weights, report, line_of, file)
    _check_language_and_year(doc, report, line_of, file)
    _check_rules(rules, report, line_of, file)
    return rules, weights


def _section(
    doc: Mapping[str, Any],
    section: str,
    cls: type[Any],
    report: Report,
    line_of: LineOf,
    file: str,
) -> Any:
    """The settings of ``[section]`` as a ``cls``: unknown keys warned about and left out,
    bad values reported and left at their defaults."""
    given = doc.get(section, {})
    if not isinstance(given, Mapping):
        report.error(
            file,
            line_of(section),
            section,
            "toml-type",
            N_("[{section}] must be a table"),
            section=section,
        )
        return cls()
    defaults = cls()
    values: dict[str, Any] = {}
    known = {f.name: getattr(defaults, f.name) for f in fields(cls)}
    for key, value in given.items():
        line = line_of(key)
        if key not in known:
            report.warning(
                file,
                line,
                key,
                "unknown-setting",
                N_("[{section}] {key} is not a known setting; expected one of {known}"),
                section=section,
                key=key,
                known=", ".join(known),
            )
            continue
        ok, value = _setting(section, key, value, known[key], report, line, file)
        if ok:
            values[key] = value
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # pragma: no cover - types checked above
        report.error(
            file,
            None,
            section,
            "toml-type",
            N_("[{section}] is not valid: {reason}"),
            section=section,
            reason=str(exc),
        )
        return defaults


def _setting(
    section: str,
    key: str,
    value: Any,
    default: Any,
    report: Report,
    line: int | None,
    file: str,
) -> tuple[bool, Any]:
    """Whether ``[section] key = value`` is within its range and of its default's type, and
    the value as the setting holds it (a float, a tuple)."""
    span = sc.RULE_RANGES.get(key) if section == "rules" else (0, sc.MAX_WEIGHT)
    if span is not None and not _numbers_within(value, span):
        report.error(
            file,
            line,
            key,
            "bad-value",
            N_("[{section}] {key} = {value!r}; expected a number from {least:,} to {most:,}"),
            section=section,
            key=key,
            value=value,
            least=_whole(span[0]),
            most=_whole(span[1]),
        )
        return False, value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    else:
        ok = isinstance(value, list | tuple) and all(isinstance(v, int | float) for v in value)
        value = tuple(value) if ok else value
    if not ok:
        report.error(
            file,
            line,
            key,
            "toml-type",
            N_("[{section}] {key} = {value!r}; expected a value like {default!r}"),
            section=section,
            key=key,
            value=value,
            default=default,
        )
        return False, value
    return True, float(value) if isinstance(default, float) else value


def _check_language_and_year(
    doc: Mapping[str, Any], report: Report, line_of: LineOf, file: str
) -> None:
    """``language`` is one the catalogue knows; ``year`` a whole number in range."""
    language = doc.get("language")
    if language is not None and normalize(str(language)) is None:
        report.error(
            file,
            line_of("language"),
            "language",
            "toml-type",
            N_("language = {value!r}; expected zh-CN or en"),
            value=language,
        )
    year = doc.get("year")
    low, high = sc.YEAR_RANGE
    if year is not None and (
        isinstance(year, bool)
        or not isinstance(year, int | float)
        or not low <= year <= high  # also false for nan
        or not float(year).is_integer()
    ):
        report.error(
            file,
            line_of("year"),
            "year",
            "bad-value",
            N_("year = {value!r}; expected a whole number from {least} to {most}"),
            value=year,
            least=low,
            most=high,
        )


def _check_rules(rules: sc.Rules, report: Report, line_of: LineOf, file: str) -> None:
    """The rules that hang together: the bachelor share as an exact fraction, the transport
    tiers' two lists of one length."""
    share = rules.undergraduate_min_share
    if not 0 <= share <= 1 or sc.share_fraction(share) is None:
        report.error(
            file,
            line_of("undergraduate_min_share"),
            "undergraduate_min_share",
            "toml-type",
            N_(
                "undergraduate_min_share = {share}; expected a share between 0 and 1 with at "
                "most four decimals, like 0.85 (A4 is checked in exact integers: 0.85 = 17/20)"
            ),
            share=share,
        )
    if len(rules.transport_tiers_km) != len(rules.transport_tiers_cny):
        report.error(
            file,
            line_of("transport_tiers_km"),
            "transport_tiers_km",
            "toml-type",
            N_("transport_tiers_km and transport_tiers_cny must have the same length"),
        )


def road_settings(
    section: Any, root: Path, report: Report, line_of: LineOf
) -> sc.RoadSettings | None:
    """``[routing]``: ``roads`` (a graph folder, relative to the scenario folder),
    ``snap_limit_m`` and ``[routing.speeds]`` (checked by the road layer's speed table)."""
    from geodata.roads.speeds import DEFAULT_KMH, MAX_FACTOR, MAX_KMH, Speeds

    if not isinstance(section, dict) or not section.get("roads"):
        return None
    roads, speeds = section["roads"], section.get("speeds", {})
    limit = section.get("snap_limit_m", 1000.0)
    if not isinstance(roads, str):
        report.error(
            TOML,
            line_of("roads"),
            "roads",
            "toml-type",
            N_("[routing] roads = {value!r}; expected the path of a road graph folder"),
            value=roads,
        )
        return None
    path = (root / roads) if not Path(roads).is_absolute() else Path(roads)
    if not (path / "manifest.json").is_file():
        report.error(
            TOML,
            line_of("roads"),
            "roads",
            "missing-file",
            N_(
                "[routing] roads = {value!r}: no road graph there ({path}); expected a "
                "folder written by planner roads build"
            ),
            value=roads,
            path=str(path),
        )
        return None
    if not isinstance(speeds, dict):
        speeds = {"speeds": speeds}
    for key, value in speeds.items():
        try:
            Speeds.with_overrides({key: value})
        except ValueError:
            report.error(
                TOML,
                line_of(key),
                key,
                "toml-type",
                N_(
                    "[routing.speeds] {key} = {value!r}; expected km/h more than 0 and at most "
                    "{kmh:,} for a highway class ({known}), or a factor more than 0 and at most "
                    "{factor} for unpaved or grade1..grade5"
                ),
                key=key,
                value=value,
                known=", ".join(DEFAULT_KMH),
                kmh=int(MAX_KMH),
                factor=int(MAX_FACTOR),
            )
            return None
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int | float)
        or not 0 < limit <= sc.MAX_SNAP_LIMIT_M  # also false for nan
    ):
        report.error(
            TOML,
            line_of("snap_limit_m"),
            "snap_limit_m",
            "bad-value",
            N_(
                "[routing] snap_limit_m = {value!r}; expected metres more than 0 and at most {most:,}"
            ),
            value=limit,
            most=int(sc.MAX_SNAP_LIMIT_M),
        )
        return None
    return sc.RoadSettings(
        str(path.resolve()), tuple((str(k), float(v)) for k, v in speeds.items()), float(limit)
    )
