"""Checks of the applicant side of a scenario: the pairing of provinces (D7), applicants and
their preferences, dispatch targets and the previous plan (:mod:`geodata.validate`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from geodata.tables import ParsedTable
from geodata.validate.geography import (
    NON_RECRUITING,
    Geography,
    county_label,
    is_code,
    unknown_county,
)
from planner.geo import is_province_code, province_of
from planner.i18n import N_, Text
from planner.issues import Report
from planner.schema import PREF_COLUMNS


def check_pairing(
    t: ParsedTable, geography: Geography, service_provinces: set[str], report: Report
) -> set[tuple[str, str]]:
    """Each pair's provinces, and D7 over the pairs; the valid (service, recruit) pairs."""
    c = t.columns
    pairs: set[tuple[str, str]] = set()
    per_service: dict[str, list[int]] = defaultdict(list)
    for i in range(len(t)):
        s, r = c["service_province"][i], c["recruit_province"][i]
        line = int(t.line[i])
        ok = _pair_provinces_known(t, line, s, r, geography, report)
        if (
            service_provinces
            and is_code(s, 6)
            and s not in service_provinces
            and s in geography.provinces
        ):
            report.warning(
                t.file,
                line,
                "service_province",
                "unused-pair",
                N_(
                    "service province {code!r} has no service county in the quotas table; this "
                    "pair is unused"
                ),
                code=str(s),
            )
        if ok and not t.bad[i]:
            pairs.add((s, r))
            per_service[s].append(line)
    _check_d7(t, service_provinces, per_service, report)
    return pairs


def _pair_provinces_known(
    t: ParsedTable, line: int, s: str, r: str, geography: Geography, report: Report
) -> bool:
    """Whether a pair's service province ``s`` and recruiting province ``r`` are known
    provinces and ``r`` recruits; False after an error."""
    ok = True
    for col, code in (("service_province", s), ("recruit_province", r)):
        if is_code(code, 6) and is_province_code(code) and code not in geography.provinces:
            report.error(
                t.file,
                line,
                col,
                "unknown-province",
                N_("province code {code!r} is unknown; expected one of the 34 province codes"),
                code=str(code),
            )
            ok = False
    if r in NON_RECRUITING:
        report.error(
            t.file,
            line,
            "recruit_province",
            "unknown-province",
            N_("{code!r} does not recruit; expected one of the 31 mainland provinces"),
            code=str(r),
        )
        ok = False
    return ok


def _check_d7(
    t: ParsedTable,
    service_provinces: set[str],
    per_service: dict[str, list[int]],
    report: Report,
) -> None:
    """D7: each service province has 1 to 3 recruiting provinces (``per_service``: the lines
    of its valid pairs)."""
    for s in sorted(service_provinces):
        n = len(per_service.get(s, []))
        if n == 0:
            report.error(
                t.file,
                None,
                "service_province",
                "D7",
                N_(
                    "D7: service province {code} has no recruiting province in the pairing table; "
                    "expected 1 to 3"
                ),
                code=s,
            )
    for s, lines in sorted(per_service.items()):
        if len(lines) > 3:
            report.error(
                t.file,
                lines[3],
                "service_province",
                "D7",
                N_(
                    "D7: service province {code} is paired with {n} recruiting provinces "
                    "(lines {lines}); expected 1 to 3"
                ),
                code=s,
                n=len(lines),
                lines=", ".join(map(str, lines)),
            )


@dataclass(frozen=True, slots=True)
class _Served:
    """What an applicant's preferences are checked against."""

    provinces: set[str]
    """The service provinces (empty: no quotas table, not checked)."""
    counties: set[str]
    """The service counties (empty: not checked)."""
    paired: dict[str, set[str]]
    """The service provinces paired with each recruiting province."""
    have_pairing: bool


def check_applicants(
    t: ParsedTable,
    geography: Geography,
    service_provinces: set[str],
    service_counties: set[str],
    pairs: set[tuple[str, str]],
    have_pairing: bool,
    report: Report,
) -> None:
    """Each applicant's recruiting province and home, and each of their preferences."""
    paired: dict[str, set[str]] = defaultdict(set)
    for s, r in pairs:
        paired[r].add(s)
    served = _Served(service_provinces, service_counties, paired, have_pairing)
    unknown_county(t, "home_county_code", geography, report)
    for i in range(len(t)):
        _check_recruit_and_home(t, i, geography, report)
        _check_preferences(t, i, geography, served, report)


def _check_recruit_and_home(t: ParsedTable, i: int, geography: Geography, report: Report) -> None:
    """Row ``i``'s recruiting province is a mainland province; its home is given (a county
    code or both coordinates)."""
    c = t.columns
    line = int(t.line[i])
    r = c["recruit_province"][i]
    if (
        is_code(r, 6)
        and is_province_code(r)
        and (r not in geography.provinces or r in NON_RECRUITING)
    ):
        report.error(
            t.file,
            line,
            "recruit_province",
            "unknown-province",
            N_("recruiting province {code!r} is not one of the 31 mainland provinces"),
            code=str(r),
        )
    has_home = bool(c["home_county_code"][i])
    lon_ok, lat_ok = np.isfinite(c["home_lon"][i]), np.isfinite(c["home_lat"][i])
    if lon_ok != lat_ok:
        report.error(
            t.file,
            line,
            "home_lat" if lon_ok else "home_lon",
            "bad-value",
            N_("home_lon and home_lat must be given together"),
        )
    if not has_home and not (lon_ok and lat_ok):
        report.error(
            t.file,
            line,
            "home_county_code",
            "missing-home",
            N_(
                "no home_county_code and no home_lon/home_lat; expected one of them (the "
                "transport subsidy depends on it)"
            ),
        )


def _check_preferences(
    t: ParsedTable, i: int, geography: Geography, served: _Served, report: Report
) -> None:
    """Row ``i``'s preferences: no gap, no repeat, each a service province or county paired
    with the applicant's recruiting province."""
    c = t.columns
    line = int(t.line[i])
    r = c["recruit_province"][i]
    seen: set[str] = set()
    gap = False
    for col in PREF_COLUMNS:
        v = c[col][i]
        if not v:
            gap = True
            continue
        if gap:
            report.warning(
                t.file,
                line,
                col,
                "pref-gap",
                N_("{column} follows an empty preference; ranks are taken as written"),
                column=col,
            )
            gap = False
        if v in seen:
            report.warning(
                t.file,
                line,
                col,
                "pref-repeat",
                N_("{column} repeats {value!r}"),
                column=col,
                value=str(v),
            )
        seen.add(v)
        if not is_code(v, 6) or not _preference_known(t, line, col, v, geography, served, report):
            continue
        province = province_of(v)
        if served.have_pairing and is_code(r, 6) and province not in served.paired.get(r, set()):
            report.error(
                t.file,
                line,
                col,
                "unpaired-province",
                N_(
                    "{column} names {value} in province {province}, which is not paired with "
                    "the applicant's recruiting province {recruit}; expected one of {expected}"
                ),
                column=col,
                value=v,
                province=province,
                recruit=r,
                expected=", ".join(sorted(served.paired.get(r, set())))
                or Text(N_("(none: province {province} has no pairing)"), {"province": r}),
            )


def _preference_known(
    t: ParsedTable,
    line: int,
    col: str,
    v: str,
    geography: Geography,
    served: _Served,
    report: Report,
) -> bool:
    """Whether the code ``v`` of a preference is a service province or a known county (a
    county that is not a service county only warns); False after an error."""
    if is_province_code(v):
        if v not in geography.provinces:
            report.error(
                t.file,
                line,
                col,
                "unknown-province",
                N_(
                    "{column} names {value!r}, which is not a province code; expected a "
                    "service province or county"
                ),
                column=col,
                value=str(v),
            )
            return False
        if served.provinces and v not in served.provinces:
            report.error(
                t.file,
                line,
                col,
                "not-service-province",
                N_(
                    "{column} names province {value}, which has no service county; "
                    "expected one of {provinces}"
                ),
                column=col,
                value=v,
                provinces=", ".join(sorted(served.provinces)),
            )
            return False
    elif v not in geography.index:
        what = (
            Text(N_("a prefecture code"))
            if v in geography.prefectures
            else Text(N_("an unknown code"))
        )
        report.error(
            t.file,
            line,
            col,
            "unknown-county",
            N_(
                "{column} names {value!r}, {what}; expected a service province (PP0000) "
                "or county (PPCCDD)"
            ),
            column=col,
            value=str(v),
            what=what,
        )
        return False
    elif served.counties and v not in served.counties:
        report.warning(
            t.file,
            line,
            col,
            "not-service-county",
            N_(
                "{column} names county {county}, which is not a service county; this "
                "preference can never be met"
            ),
            column=col,
            county=county_label(geography, v),
        )
    return True


def check_targets(
    t: ParsedTable, geography: Geography, service_provinces: set[str], report: Report
) -> None:
    """Each dispatch target's province is known and fits its role; each service province has
    a target."""
    c = t.columns
    seen_service = set()
    for i in range(len(t)):
        code, role = c["province_code"][i], c["role"][i]
        line = int(t.line[i])
        if is_code(code, 6) and code not in geography.provinces:
            report.error(
                t.file,
                line,
                "province_code",
                "unknown-province",
                N_("province code {code!r} is unknown"),
                code=str(code),
            )
        if role == "recruit" and code in NON_RECRUITING:
            report.error(
                t.file,
                line,
                "province_code",
                "unknown-province",
                N_("{code} does not recruit"),
                code=code,
            )
        if role == "service":
            seen_service.add(code)
            if service_provinces and code not in service_provinces and code in geography.provinces:
                report.warning(
                    t.file,
                    line,
                    "province_code",
                    "unused-target",
                    N_("service province {code} has no service county"),
                    code=code,
                )
    for s in sorted(service_provinces - seen_service):
        report.warning(
            t.file,
            None,
            "province_code",
            "no-target",
            N_("service province {code} has no dispatch target; A6 leaves it unbounded"),
            code=s,
        )


def check_previous(
    t: ParsedTable, applicants: ParsedTable | None, posts: ParsedTable | None, report: Report
) -> None:
    """The applicants and posts of the previous plan that are gone (warnings)."""
    known_a = set(applicants.columns["applicant_id"]) if applicants is not None else None
    known_p = set(posts.columns["post_id"]) if posts is not None else None
    for i in range(len(t)):
        a, p = t.columns["applicant_id"][i], t.columns["post_id"][i]
        line = int(t.line[i])
        if known_a is not None and a and a not in known_a:
            report.warning(
                t.file,
                line,
                "applicant_id",
                "dropout",
                N_(
                    "volunteer {volunteer!r} of the previous plan is not among the applicants (a "
                    "dropout); their seat is free again"
                ),
                volunteer=str(a),
            )
        if known_p is not None and p and p not in known_p:
            report.warning(
                t.file,
                line,
                "post_id",
                "post-gone",
                N_("post {post!r} of the previous plan no longer exists; its volunteer must move"),
                post=str(p),
            )
