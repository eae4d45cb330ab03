"""Cross-table checks of a scenario and the declaration rules D1-D7 of the planning model.

Cell-level checks (types, enums, duplicates) happen while reading (``geodata.tables``); this
module checks what needs several tables or the geography: codes that must exist, points that
must lie inside their county, pairings, preferences, and the declaration rules:

- D1 open general seats >= ceil(general_post_ratio x general quota); open seats of each special
  action >= ceil(special_post_ratio x its quota).
- D2 seats of category ``other`` <= other_max_share x the county quota.
- D3 a post's township code starts with its county code, and its point lies inside the county
  polygon (tolerance :data:`~geodata.validate.geography.BOUNDARY_TOLERANCE_DEG`).
- D4 continuing volunteers hold seats that are not open to new volunteers (and never more seats
  than a post has).
- D5 service counties not served last year need the province's approval (warning).
- D6 an education post restricted to some majors (warning).
- D7 each service province is paired with 1 to 3 recruiting provinces.

The checks by table family: :mod:`geodata.validate.geography` (the geography, codes and
points against it), :mod:`geodata.validate.posts` (quotas, posts, continuing volunteers,
D1-D6), :mod:`geodata.validate.applicants` (pairing D7, applicants and their preferences,
targets, the previous plan), :mod:`geodata.validate.routing` (stations, stops, travel times).
"""

from __future__ import annotations

from collections import Counter

from geodata.layers import Layer
from geodata.tables import ParsedTable
from geodata.validate.applicants import (
    check_applicants,
    check_pairing,
    check_previous,
    check_targets,
)
from geodata.validate.geography import BOUNDARY_TOLERANCE_DEG, Geography, points_outside
from geodata.validate.posts import check_continuing, check_declaration, check_posts, check_quotas
from geodata.validate.routing import check_places, check_shifts, check_travel, check_windows
from planner.geo import province_of
from planner.issues import Report
from planner.scenario import Rules

__all__ = ["BOUNDARY_TOLERANCE_DEG", "Geography", "check_scenario", "points_outside"]


def check_scenario(
    tables: dict[str, ParsedTable],
    townships: Layer | None,
    geography: Geography,
    rules: Rules,
    report: Report,
) -> None:
    """Run every cross-table check and D1-D7, appending to ``report``."""
    quotas = tables.get("quotas")
    posts = tables.get("posts")
    service_counties: set[str] = set()
    if quotas is not None:
        service_counties = check_quotas(quotas, geography, report)
    service_provinces = {province_of(c) for c in service_counties}
    if posts is not None:
        check_posts(posts, townships, geography, service_counties, quotas is not None, report)
    continuing = tables.get("continuing")
    held: Counter[str] = Counter()
    if continuing is not None:
        held = check_continuing(continuing, posts, report)
    if quotas is not None and posts is not None:
        check_declaration(quotas, posts, held, geography, rules, report)
    pairing = tables.get("pairing")
    pairs: set[tuple[str, str]] = set()
    if pairing is not None:
        pairs = check_pairing(pairing, geography, service_provinces, report)
    applicants = tables.get("applicants")
    if applicants is not None:
        check_applicants(
            applicants,
            geography,
            service_provinces,
            service_counties,
            pairs,
            pairing is not None,
            report,
        )
    targets = tables.get("targets")
    if targets is not None:
        check_targets(targets, geography, service_provinces, report)
    previous = tables.get("previous_plan")
    if previous is not None:
        check_previous(previous, applicants, posts, report)
    stations = tables.get("stations")
    stops = tables.get("stops")
    for t, id_col in ((stations, "station_id"), (stops, "stop_id")):
        if t is not None:
            check_places(t, id_col, geography, report)
    if stations is not None:
        check_shifts(stations, report)
    if stops is not None:
        check_windows(stops, report)
    travel = tables.get("travel_times")
    if travel is not None:
        known = set()
        for t, col in ((stations, "station_id"), (stops, "stop_id")):
            if t is not None:
                known |= set(t.columns[col])
        check_travel(travel, known, report)
