"""Checks of the post side of a scenario: quotas, posts, continuing volunteers and the
declaration rules D1-D6 (:mod:`geodata.validate`)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd

from geodata.layers import Layer
from geodata.tables import ParsedTable
from geodata.validate.geography import (
    Geography,
    county_label,
    is_code,
    points_outside,
    unknown_county,
)
from planner.i18n import N_, Text
from planner.issues import Report
from planner.scenario import GENERAL_CATEGORIES, SPECIAL_ACTIONS, Rules


def check_quotas(t: ParsedTable, geography: Geography, report: Report) -> set[str]:
    """D5 for the quotas table; the known service counties."""
    c = t.columns
    unknown = unknown_county(t, "county_code", geography, report)
    for i in np.flatnonzero(~c["served_last_year"] & ~unknown):
        code = c["county_code"][i]
        report.warning(
            t.file,
            int(t.line[i]),
            "served_last_year",
            "D5",
            N_(
                "D5: service county {county} did not serve last year; adding a county needs the "
                "province's approval and the national office's review"
            ),
            county=county_label(geography, code),
        )
    ok = ~unknown & np.asarray([is_code(v, 6) for v in c["county_code"]], dtype=bool)
    return set(c["county_code"][ok])


def check_posts(
    t: ParsedTable,
    townships: Layer | None,
    geography: Geography,
    service_counties: set[str],
    have_quotas: bool,
    report: Report,
) -> None:
    """Each post's county is a service county, its township lies in it (D3, with the point),
    and D6."""
    c = t.columns
    unknown = unknown_county(t, "county_code", geography, report)
    county = c["county_code"]
    town = c["township_code"]
    for i in range(len(t)):
        line = int(t.line[i])
        if unknown[i] or not is_code(county[i], 6):
            continue
        if have_quotas and county[i] not in service_counties:
            report.error(
                t.file,
                line,
                "county_code",
                "not-service-county",
                N_(
                    "post {post!r} is in county {county}, which has no row in the quotas table; "
                    "expected a service county"
                ),
                post=str(c["post_id"][i]),
                county=county_label(geography, county[i]),
            )
        if is_code(town[i], 9) and not town[i].startswith(county[i]):
            report.error(
                t.file,
                line,
                "township_code",
                "D3",
                N_(
                    "D3: township {township!r} is not in county {county} (its first 6 digits are "
                    "{prefix}); expected a township code starting with {county}"
                ),
                township=str(town[i]),
                county=county[i],
                prefix=town[i][:6],
            )
        if c["category"][i] == "education" and c["required_majors"][i]:
            report.warning(
                t.file,
                line,
                "required_majors",
                "D6",
                N_(
                    "D6: education post {post!r} is restricted to majors {majors!r}; education "
                    "posts should not be limited to teacher-training majors"
                ),
                post=str(c["post_id"][i]),
                majors=str(c["required_majors"][i]),
            )
    if townships is not None:
        known = set(townships.frame["code"])
        for i in range(len(t)):
            if is_code(town[i], 9) and town[i] not in known:
                report.error(
                    t.file,
                    int(t.line[i]),
                    "township_code",
                    "unknown-township",
                    N_("township {township!r} is not in the townships layer {layer}"),
                    township=str(town[i]),
                    layer=townships.file,
                )
    check_inside(t, "post_id", geography, report, rule="D3")


def check_inside(
    t: ParsedTable, id_col: str, geography: Geography, report: Report, rule: str
) -> None:
    """Each point of ``t`` lies inside its county's polygon (``rule``: D3 for posts)."""
    c = t.columns
    dist = points_outside(geography, c["county_code"], c["lon"], c["lat"])
    for i in np.flatnonzero(dist > 0):
        code = c["county_code"][i]
        report.error(
            t.file,
            int(t.line[i]),
            "lon",
            rule if rule == "D3" else "outside-county",
            N_(
                "{rule}{column} {id!r} at ({lon:.6f}, {lat:.6f}) lies about {km:.1f} km outside "
                "county {county}; expected a point inside the county (are lon and lat swapped, "
                "or in another coordinate system than scenario.toml declares?)"
            ),
            rule="D3: " if rule == "D3" else "",
            column=id_col,
            id=str(c[id_col][i]),
            lon=c["lon"][i],
            lat=c["lat"][i],
            km=dist[i],
            county=county_label(geography, code),
        )


def check_continuing(t: ParsedTable, posts: ParsedTable | None, report: Report) -> Counter[str]:
    """Each continuing volunteer's post exists and holds no more of them than its seats (D4);
    the seats held per post."""
    held: Counter[str] = Counter()
    seats: dict[str, int] = {}
    lines: dict[str, int] = {}
    if posts is not None:
        seats = dict(zip(posts.columns["post_id"], posts.columns["seats"].tolist(), strict=True))
        lines = dict(zip(posts.columns["post_id"], posts.line.tolist(), strict=True))
    for i, post in enumerate(t.columns["post_id"]):
        if not post:
            continue
        if posts is not None and post not in seats:
            report.error(
                t.file,
                int(t.line[i]),
                "post_id",
                "unknown-post",
                N_(
                    "continuing volunteer {volunteer!r} holds post {post!r}, which is not in the "
                    "posts table"
                ),
                volunteer=str(t.columns["volunteer_id"][i]),
                post=str(post),
            )
            continue
        held[post] += 1
    for post, n in held.items():
        if post in seats and seats[post] >= 0 and n > seats[post]:
            report.error(
                posts.file if posts is not None else t.file,
                lines.get(post),
                "seats",
                "D4",
                N_(
                    "D4: post {post!r} has {seats} seats but {n} continuing volunteers hold seats "
                    "on it; expected seats >= continuing volunteers"
                ),
                post=str(post),
                seats=seats[post],
                n=n,
            )
    return held


def check_declaration(
    quotas: ParsedTable,
    posts: ParsedTable,
    held: Counter[str],
    geography: Geography,
    rules: Rules,
    report: Report,
) -> None:
    """D1 and D2 for each county of the quotas table, counting the open seats of its posts
    (the seats continuing volunteers hold are not open, D4)."""
    p = posts.columns
    open_seats = np.asarray(
        [max(int(s), 0) - held.get(pid, 0) for pid, s in zip(p["post_id"], p["seats"], strict=True)]
    )
    open_seats = np.maximum(open_seats, 0)
    frame = pd.DataFrame(
        {"county": p["county_code"], "category": p["category"], "open": open_seats}
    )
    by = frame.groupby(["county", "category"])["open"].sum()
    q = quotas.columns
    unsure = set(p["county_code"][posts.bad])  # a bad seat count would only echo here
    for i, county in enumerate(q["county_code"]):
        if quotas.bad[i] or q["barred"][i] or county in unsure:
            continue
        label = county_label(geography, county)

        def seats(cat: str, county: str = county) -> int:
            return int(by.get((county, cat), 0))

        total_quota = _check_d1(quotas, i, label, seats, rules, report)
        other = seats("other")
        limit = math.floor(rules.other_max_share * total_quota + 1e-9)
        if other > limit:
            report.error(
                quotas.file,
                int(quotas.line[i]),
                "general_quota",
                "D2",
                N_(
                    "D2: county {county} declares {seats} seats in category 'other'; expected at "
                    "most {share:.0%} of its quota {quota} = {limit}"
                ),
                county=label,
                seats=other,
                share=rules.other_max_share,
                quota=total_quota,
                limit=limit,
            )


def _check_d1(
    quotas: ParsedTable,
    i: int,
    label: str | Text,
    seats: Callable[[str], int],
    rules: Rules,
    report: Report,
) -> int:
    """D1 for the county of quota row ``i`` (``seats``: its open seats of a category); its
    whole quota (general and special)."""
    q = quotas.columns
    line = int(quotas.line[i])
    general_quota = int(q["general_quota"][i])
    general = sum(seats(cat) for cat in GENERAL_CATEGORIES)
    need = math.ceil(rules.general_post_ratio * general_quota - 1e-9)
    if general < need:
        report.error(
            quotas.file,
            line,
            "general_quota",
            "D1",
            N_(
                "D1: county {county} declares {seats} open general seats for a general quota "
                "of {quota}; expected at least ceil({ratio:g} x {quota}) = {need} (seats of "
                "continuing volunteers do not count, D4)"
            ),
            county=label,
            seats=general,
            quota=general_quota,
            ratio=rules.general_post_ratio,
            need=need,
        )
    total_quota = general_quota
    for action in SPECIAL_ACTIONS:
        quota = int(q[f"{action}_quota"][i])
        total_quota += max(quota, 0)
        need = math.ceil(rules.special_post_ratio * quota - 1e-9)
        have = seats(action)
        if have < need:
            report.error(
                quotas.file,
                line,
                f"{action}_quota",
                "D1",
                N_(
                    "D1: county {county} declares {seats} open {action} seats for a quota of "
                    "{quota}; expected at least ceil({ratio:g} x {quota}) = {need}"
                ),
                county=label,
                seats=have,
                action=action,
                quota=quota,
                ratio=rules.special_post_ratio,
                need=need,
            )
    return total_quota
