"""Where the preferences of a compact network reach: named areas and tier segments.

The compact network (:mod:`planner.allocation.compact`) routes each applicant through hubs
keyed by what the arc costs depend on. This module finds those keys, in the order
:func:`~planner.allocation.compact.build_compact_network` needs them:

- :func:`usable_counties`: the counties with usable posts and their posts;
- :func:`named_areas`: every eligible (applicant, named area, rank), health (A5) and the
  pairing (A3) applied, with ``allow_outside_preferences``'s outside rank;
- :func:`home_provinces`: each (home, named province) once, with the province's counties;
- :func:`tier_segments`: each (home, county) segment the preferences need, the transport tier
  of its posts from the home, its tier classes and its tier pattern (exact, not hashed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.allocation.arcs import OUTSIDE_RANK, segments, tier_cny, transport_tier
from planner.allocation.key_packing import KeyPacking, field_radix
from planner.allocation.problem import AllocationProblem
from planner.geo import haversine_km, is_province_code, provinces_of
from planner.scenario import DEGREES, MAJOR_CLASSES

MAJOR_RADIX = field_radix("major classes", len(MAJOR_CLASSES), bits=4)
"""The major-class field of a hub key (:data:`planner.scenario.MAJOR_CLASSES`)."""
DEGREE_RADIX = field_radix("degrees", len(DEGREES), bits=3)
"""The degree field of a hub key (:data:`planner.scenario.DEGREES`)."""
RANK_RADIX = field_radix("preference ranks", OUTSIDE_RANK + 1, bits=3)
"""The rank field of a preference key (1 .. :data:`~planner.allocation.arcs.OUTSIDE_RANK`)."""


def _county_hub_packing(n_tiers: int) -> KeyPacking:
    """A county hub: the tier pattern of a county from a home, a tier class in it, major,
    degree."""
    return KeyPacking(
        ("tier pattern", "tier class", "major", "degree"), (n_tiers, MAJOR_RADIX, DEGREE_RADIX)
    )


def _preferences(
    problem: AllocationProblem, county_codes: np.ndarray, county_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
    """Every eligible (applicant, named area, rank): the areas are the preference codes, and
    with ``allow_outside_preferences`` every paired service province at the outside rank.

    Returns the applicant, rank and area of each, the counties of each area and whether the
    area is a province. Health (A5) and the pairing (A3) are applied here."""
    prefs = problem.app_prefs
    filled = np.flatnonzero(prefs.reshape(-1) != "")
    pref_a = filled // prefs.shape[1]
    pref_rank = filled % prefs.shape[1] + 1
    pref_code = prefs.reshape(-1)[filled].astype(str)
    if problem.rules.allow_outside_preferences:
        r_of, s_of = np.nonzero(problem.pair_index >= 0)
        by_r = np.searchsorted(r_of, problem.app_r, side="right") - np.searchsorted(
            r_of, problem.app_r
        )
        first = np.searchsorted(r_of, problem.app_r)
        out_a = np.repeat(np.arange(problem.n_applicants), np.where(problem.app_r >= 0, by_r, 0))
        at = segments(first, np.where(problem.app_r >= 0, by_r, 0))
        pref_a = np.concatenate([pref_a, out_a])
        pref_rank = np.concatenate([pref_rank, np.full(len(out_a), OUTSIDE_RANK)])
        pref_code = np.concatenate([pref_code, problem.service_code[s_of[at]].astype(str)])
    codes, code_id = np.unique(pref_code, return_inverse=True)
    county_prov = provinces_of(county_codes)
    is_province = np.asarray([is_province_code(c) for c in codes.tolist()], dtype=bool)
    members = [
        np.flatnonzero((county_prov if prov else county_codes) == code)
        for code, prov in zip(codes.tolist(), is_province.tolist(), strict=True)
    ]
    code_s = np.asarray([int(county_s[m[0]]) if len(m) else -1 for m in members], dtype=np.int64)
    code_id = code_id.reshape(-1)
    r = problem.app_r[pref_a]
    s = code_s[code_id]
    ok = problem.app_health[pref_a] & (r >= 0) & (s >= 0)
    ok &= problem.pair_index[np.maximum(r, 0), np.maximum(s, 0)] >= 0
    if len(problem.pin_forbid):  # an applicant with a forbidden pair has direct arcs only
        ok &= ~np.isin(pref_a, problem.pin_restricted)
    # an applicant who names an area twice (a county and, again, outside) keeps the best rank
    named = KeyPacking(("applicant", "area", "rank"), (max(len(codes), 1), RANK_RADIX))
    key = named.pack(pref_a[ok], code_id[ok], pref_rank[ok])
    key.sort()
    a, area, rank = named.unpack(key)
    once = np.ones(len(key), dtype=bool)
    once[1:] = (a[1:] != a[:-1]) | (area[1:] != area[:-1])
    return a[once], rank[once], area[once], members, is_province


@dataclass(frozen=True, slots=True)
class UsableCounties:
    """The counties with usable posts, and their posts grouped county by county."""

    codes: np.ndarray
    s: np.ndarray
    """Service-province index of each county."""
    posts: np.ndarray
    """The usable posts, county after county."""
    start: np.ndarray
    length: np.ndarray
    """Each county's posts are ``posts[start : start + length]``."""


def usable_counties(problem: AllocationProblem) -> UsableCounties:
    """The counties of the usable posts, with their service provinces and posts."""
    usable = np.flatnonzero(problem.post_usable)
    codes, post_county_idx = np.unique(problem.post_county[usable].astype(str), return_inverse=True)
    n_c = len(codes)
    county_s = np.zeros(n_c, dtype=np.int64)
    county_s[post_county_idx] = problem.post_s[usable]
    length = np.bincount(post_county_idx, minlength=n_c)
    return UsableCounties(
        codes=codes,
        s=county_s,
        posts=usable[np.argsort(post_county_idx, kind="stable")],
        start=np.cumsum(length) - length,
        length=length,
    )


@dataclass(frozen=True, slots=True)
class NamedAreas:
    """Every eligible (applicant, named area, rank), and the counties of each named area."""

    a: np.ndarray
    rank: np.ndarray
    area: np.ndarray
    is_province: np.ndarray
    """Whether each area is a province."""
    m_start: np.ndarray
    m_len: np.ndarray
    m_flat: np.ndarray
    """The counties of area ``k`` are ``m_flat[m_start[k] : m_start[k] + m_len[k]]``."""

    @property
    def by_province(self) -> np.ndarray:
        """Whether each (applicant, area) names a province."""
        return self.is_province[self.area]

    @property
    def by_county(self) -> np.ndarray:
        """Whether each (applicant, area) names a county with usable posts."""
        return ~self.by_province & (self.m_len[self.area] > 0)


def named_areas(problem: AllocationProblem, counties: UsableCounties) -> NamedAreas:
    """:func:`_preferences` with the counties of each area in flat arrays."""
    a, rank, area, members, is_province = _preferences(problem, counties.codes, counties.s)
    m_len = np.asarray([len(m) for m in members], dtype=np.int64)
    return NamedAreas(
        a=a,
        rank=rank,
        area=area,
        is_province=is_province,
        m_start=np.cumsum(m_len) - m_len,
        m_len=m_len,
        m_flat=np.concatenate([*members, np.zeros(0, dtype=np.int64)]),
    )


@dataclass(frozen=True, slots=True)
class HomeProvinces:
    """Each (home, named province) once, with the province's counties."""

    packing: KeyPacking
    keys: np.ndarray
    """Sorted (home, area) keys."""
    home: np.ndarray
    area: np.ndarray
    counties: np.ndarray
    """The counties of each (home, province), one after the other."""
    length: np.ndarray
    """How many counties each (home, province) has in ``counties``."""

    @property
    def start(self) -> np.ndarray:
        """Where each (home, province)'s counties start in ``counties``."""
        return np.cumsum(self.length) - self.length

    @property
    def homes(self) -> np.ndarray:
        """The home of each entry of ``counties``."""
        return np.repeat(self.home, self.length)


def home_provinces(named: NamedAreas, home_of: np.ndarray) -> HomeProvinces:
    """The (home, province) pairs the preferences name: their counties are reached through a
    preference hub."""
    packing = KeyPacking(("home", "named area"), (len(named.m_len),))
    prov = named.by_province
    keys = np.unique(packing.pack(home_of[named.a[prov]], named.area[prov]))
    home, area = packing.unpack(keys)
    length = named.m_len[area]
    return HomeProvinces(
        packing=packing,
        keys=keys,
        home=home,
        area=area,
        counties=named.m_flat[segments(named.m_start[area], length)],
        length=length,
    )


@dataclass(frozen=True, slots=True)
class TierSegments:
    """The (home, county) segments the preferences need: the transport tier class of each of
    the county's posts from the home, and the tier pattern they make."""

    packing: KeyPacking
    keys: np.ndarray
    """Sorted (home, county) keys."""
    county: np.ndarray
    length: np.ndarray
    bounds: np.ndarray
    """Segment ``g``'s posts are ``posts[bounds[g] : bounds[g] + length[g]]``."""
    posts: np.ndarray
    rel: np.ndarray
    """Each post's tier above its segment's lowest."""
    low: np.ndarray
    """Each segment's lowest tier."""
    pattern: np.ndarray
    pattern_rep: np.ndarray
    """Each segment's tier pattern, and one segment of each pattern."""
    classes: np.ndarray
    """Each segment's set of tier classes (:func:`_tier_classes`)."""
    cny: np.ndarray
    """The transport subsidy of each tier (:func:`~planner.allocation.arcs.tier_cny`)."""
    hub_packing: KeyPacking
    """The county hubs' keys (:func:`_county_hub_packing`)."""

    def find(self, home: np.ndarray, county: np.ndarray) -> np.ndarray:
        """The segment of each (home, county)."""
        return np.searchsorted(self.keys, self.packing.pack(home, county))

    def hub_key(self, at: np.ndarray, j: int, major: np.ndarray, degree: np.ndarray) -> np.ndarray:
        """The county hub of tier class ``j`` of the segments ``at``, for major and degree."""
        return self.hub_packing.pack(self.pattern[at], np.full(len(at), j), major, degree)


def tier_segments(
    problem: AllocationProblem,
    counties: UsableCounties,
    named: NamedAreas,
    homes: np.ndarray,
    home_of: np.ndarray,
    provinces: HomeProvinces,
) -> TierSegments:
    """The segments of the named counties and of the named provinces' counties, each with
    the transport tier of its posts from the home and the tier pattern."""
    packing = KeyPacking(("home", "county"), (len(counties.codes),))
    cty = named.by_county
    keys = np.unique(
        np.concatenate(
            [
                packing.pack(home_of[named.a[cty]], named.m_flat[named.m_start[named.area[cty]]]),
                packing.pack(provinces.homes, provinces.counties),
            ]
        )
    )
    seg_h, seg_c = packing.unpack(keys)
    # the transport tier of each of county c's posts from each home
    seg_len = counties.length[seg_c]
    posts = counties.posts[segments(counties.start[seg_c], seg_len)]
    tier = transport_tier(
        problem,
        haversine_km(
            np.repeat(homes[seg_h, 0], seg_len),
            np.repeat(homes[seg_h, 1], seg_len),
            problem.post_lon[posts],
            problem.post_lat[posts],
        ),
    )
    bounds = np.cumsum(seg_len) - seg_len
    low = np.minimum.reduceat(tier, bounds)
    rel = tier - np.repeat(low, seg_len)
    pattern, pattern_rep = _patterns(seg_c, rel, bounds, seg_len)
    cny = tier_cny(problem)
    return TierSegments(
        packing=packing,
        keys=keys,
        county=seg_c,
        length=seg_len,
        bounds=bounds,
        posts=posts,
        rel=rel,
        low=low,
        pattern=pattern,
        pattern_rep=pattern_rep,
        classes=_tier_classes(rel, bounds, len(cny)),
        cny=cny,
        hub_packing=_county_hub_packing(len(cny)),
    )


def _tier_classes(rel: np.ndarray, bounds: np.ndarray, n_tiers: int) -> np.ndarray:
    """The tier classes of each segment's posts (``rel``, from ``bounds`` on) as a set of
    bits, bit ``j`` for class ``j``."""
    if n_tiers > 63:
        raise ValueError(f"{n_tiers} transport tiers; a set of tier classes holds at most 63")
    return np.bitwise_or.reduceat(np.left_shift(1, rel), bounds)


def _patterns(
    seg_c: np.ndarray, rel: np.ndarray, bounds: np.ndarray, seg_len: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct (county, tier classes of its posts) segments.

    Returns the pattern of each segment and one segment of each pattern. Segments are grouped
    by two polynomial hashes of their classes, then every segment is compared with its
    group's representative, so equal patterns are exact, not probable.
    """
    pos = np.arange(len(rel)) - np.repeat(bounds, seg_len)
    keys = [seg_c.astype(np.uint64)]
    for base in (np.uint64(1_000_003), np.uint64(998_244_353)):
        n = max(int(seg_len.max(initial=0)), 1)
        power = np.concatenate([np.ones(1, np.uint64), np.cumprod(np.full(n - 1, base))])
        keys.append(np.add.reduceat((rel.astype(np.uint64) + np.uint64(1)) * power[pos], bounds))
    _, pattern_rep, pattern = np.unique(
        np.stack(keys, axis=1), axis=0, return_index=True, return_inverse=True
    )
    pattern = pattern.reshape(-1)
    same = rel == rel[np.repeat(bounds[pattern_rep[pattern]], seg_len) + pos]
    if not same.all():
        raise RuntimeError("two different tier patterns share a hash; report this as a bug")
    return pattern, pattern_rep
