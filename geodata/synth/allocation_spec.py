"""The sizes and mixes of one synthetic allocation scenario (:class:`AllocationSpec`)."""

from __future__ import annotations

from dataclasses import dataclass

from geodata.synth.common import MAINLAND_PROVINCES


@dataclass(frozen=True, slots=True)
class AllocationSpec:
    """Sizes and mixes of one synthetic allocation scenario.

    Attributes
    ----------
    quota_total : int
        Sum of all county quotas (general + special), i.e. the new volunteers to place.
    applicants : int
        Number of applicants.
    posts : int or None
        Exact number of posts; ``None``: about ``seats_per_post`` seats a post.
    seats_per_post : float
        Mean seats of a post when ``posts`` is ``None``.
    barred : int
        Counties barred after a serious accident (quota listed, ``barred = 1``).
    new_counties : int
        Counties with ``served_last_year = 0`` (a D5 warning each).
    continuing_share : float
        Continuing two-year volunteers per unit of quota (seats added on top, D4).
    mobile_share : float
        Share of counties with a ``mobile_service`` post when no stations give the crews.
    recruit_pool : tuple of str
        Candidate recruiting provinces.
    recruit_count : int or None
        How many of the pool recruit (``None``: all, at most 3 per service province).
    short_provinces : int
        Recruiting provinces whose applicants are only ~70 % bachelors or higher.
    d6_warnings : int
        Education posts given ``required_majors`` on purpose (D6 warnings).
    pair_seats_share : float
        Share of pairs that carry a seat count.
    """

    quota_total: int
    applicants: int
    posts: int | None = None
    seats_per_post: float = 1.6
    barred: int = 0
    new_counties: int = 0
    continuing_share: float = 0.08
    mobile_share: float = 0.12
    recruit_pool: tuple[str, ...] = MAINLAND_PROVINCES
    recruit_count: int | None = None
    short_provinces: int = 4
    d6_warnings: int = 0
    pair_seats_share: float = 0.5
