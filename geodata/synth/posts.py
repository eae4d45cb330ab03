"""Declared posts of a synthetic allocation scenario and the continuing volunteers on them.

:func:`declared_posts` works in the phases of the declaration: seats per (county, category)
bucket so that D1 and D2 hold by construction (continuing volunteers' seats on top, D4); the
number of posts of each bucket; the seats of each post; the seats the continuing volunteers
hold; the township of each post (D3); and the post's requirements (relay, required majors with
the D6 cases asked for, minimum degree). Every phase draws from the one ``posts`` stream in
this order, so the same seed gives the same posts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from geodata.synth.allocation_spec import AllocationSpec
from geodata.synth.common import DEFAULT_RULES, apportion, make_rng, ranks_within
from planner.scenario import CATEGORIES, SPECIAL_ACTIONS
from planner.schema import POSTS

_GENERAL_RATIO = float(DEFAULT_RULES["general_post_ratio"])
_OTHER_SHARE = float(DEFAULT_RULES["other_max_share"])

_GENERAL_MIX = np.array([6.0, 2.2, 1.8])
"""Dirichlet centre of the education / health / agriculture split of general seats."""

_RELAY_CHANCE: Mapping[str, float] = {
    "education": 0.22,
    "health": 0.08,
    "agriculture": 0.06,
    **dict.fromkeys(SPECIAL_ACTIONS, 0.05),
    "mobile_service": 0.0,
    "other": 0.0,
}
"""Chance that a post is a relay post (接力机制), mostly education."""

_REQUIRED_MAJORS: Mapping[str, tuple[float, str]] = {
    "health": (0.4, "medicine"),
    "agriculture": (0.2, "agriculture;science"),
    "remote_education": (0.3, "engineering;science"),
    "procuratorate": (0.6, "law"),
    "legal_aid": (0.6, "law"),
    "court": (0.6, "law"),
    "development_finance": (0.5, "economics_finance;management"),
}
"""Chance and value of ``required_majors`` per category (education: never, except D6 cases)."""

POST_COLUMNS: tuple[str, ...] = tuple(c.name for c in POSTS.columns)
"""The columns of ``posts.csv``, in the order of the contract (:data:`planner.schema.POSTS`)."""

_CATEGORY = {c: i for i, c in enumerate(CATEGORIES)}
"""Column of each category in the (county, category) seat matrix."""

_BASE_CATEGORIES = ("education", "health", "agriculture")
"""The general categories that take the continuing volunteers (D4)."""


def declared_posts(
    quotas: pd.DataFrame,
    townships: pd.DataFrame,
    spec: AllocationSpec,
    seed: int,
    mobile_seats: np.ndarray | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Declared posts (D1, D2 by construction) and the continuing volunteers on them."""
    rng = make_rng(seed, "posts")
    seats, held = _bucket_seats(quotas, spec, rng, mobile_seats)
    b_county, b_cat = np.nonzero(seats)
    b_seats = seats[b_county, b_cat]
    n_posts = _posts_per_bucket(b_seats, b_cat == _CATEGORY["mobile_service"], spec, rng)
    post_bucket = np.repeat(np.arange(len(b_seats)), n_posts)
    post_seats = _seats_of_posts(b_seats, n_posts, rng)
    post_held = _held_seats(held[b_county, b_cat], n_posts, post_seats, rng)

    county_of_post = b_county[post_bucket]
    post_cat = np.asarray(CATEGORIES)[b_cat[post_bucket]]
    town_row = _township_rows(quotas, townships, county_of_post, post_cat, rng)
    county_codes = quotas["county_code"].to_numpy(str)[county_of_post]
    rank = ranks_within(np.bincount(county_of_post, minlength=len(quotas))) + 1
    post_id = np.asarray([f"P{c}{r:03d}" for c, r in zip(county_codes, rank, strict=True)])
    relay, required, min_degree = _requirements(post_cat, spec, rng)

    posts = pd.DataFrame(
        {
            "post_id": post_id,
            "county_code": county_codes,
            "township_code": townships["township_code"].to_numpy(str)[town_row],
            "category": post_cat,
            "seats": post_seats.astype(np.int64),
            "lon": townships["lon"].to_numpy(float)[town_row],
            "lat": townships["lat"].to_numpy(float)[town_row],
            "township_name": townships["township_name"].to_numpy(str)[town_row],
            "relay": relay,
            "required_majors": required.astype(str),
            "min_degree": min_degree.astype(str),
        },
        columns=list(POST_COLUMNS),
    )
    holder = np.repeat(post_id, post_held)
    cont = pd.DataFrame(
        {
            "volunteer_id": [f"V{i:06d}" for i in range(1, len(holder) + 1)],
            "post_id": holder,
        }
    )
    return posts, cont


def _bucket_seats(
    quotas: pd.DataFrame,
    spec: AllocationSpec,
    rng: np.random.Generator,
    mobile_seats: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Seats and seats held by continuing volunteers per (county, category) bucket.

    Both of shape (counties, categories), categories in ``CATEGORIES`` order.
    """
    n = len(quotas)
    general = quotas["general_quota"].to_numpy(np.int64)
    special = quotas[[f"{a}_quota" for a in SPECIAL_ACTIONS]].to_numpy(np.int64)
    total = general + special.sum(axis=1)
    if mobile_seats is None:
        mobile = np.where(rng.random(n) < spec.mobile_share, 2 * rng.integers(1, 3, n), 0)
    else:
        mobile = np.asarray(mobile_seats, dtype=np.int64)

    cat_index = _CATEGORY
    seats = np.zeros((n, len(CATEGORIES)), dtype=np.int64)
    held = np.zeros((n, len(CATEGORIES)), dtype=np.int64)
    mix = rng.dirichlet(_GENERAL_MIX * 2.0, size=n)
    slack = rng.binomial(np.maximum(general // 8, 1), 0.5)
    other_roll = rng.random(n)
    continuing = rng.binomial(total, spec.continuing_share)
    extra_special = rng.random((n, len(SPECIAL_ACTIONS))) < 0.15
    for i in range(n):
        g = int(general[i])
        need = math.ceil(_GENERAL_RATIO * g - 1e-9)  # D1, general bucket
        declared = need + int(slack[i]) if g > 0 else 0
        m = int(mobile[i])
        cap_other = math.floor(_OTHER_SHARE * g + 1e-9)  # D2 against the general quota alone
        o = int(rng.integers(1, cap_other + 1)) if cap_other >= 1 and other_roll[i] < 0.3 else 0
        rest = max(declared - m - o, 1 if g > 0 else 0)
        if rest > 0:
            split = apportion(rest, mix[i])
            seats[i, cat_index["education"]] = split[0]
            seats[i, cat_index["health"]] = split[1]
            seats[i, cat_index["agriculture"]] = split[2]
        seats[i, cat_index["mobile_service"]] = m
        seats[i, cat_index["other"]] = o
        for j, action in enumerate(SPECIAL_ACTIONS):
            q = int(special[i, j])
            if q > 0:
                seats[i, cat_index[action]] = q + int(extra_special[i, j])
        # D4: continuing volunteers keep seats on education/health/agriculture posts; their
        # seats are added on top of the declared ones.
        k = int(continuing[i])
        base = seats[i, [cat_index[c] for c in _BASE_CATEGORIES]]
        if k > 0 and base.sum() > 0:
            add = rng.multinomial(k, base / base.sum())
            for c, a in zip(_BASE_CATEGORIES, add, strict=True):
                held[i, cat_index[c]] += a
                seats[i, cat_index[c]] += a
    return seats, held


def _posts_per_bucket(
    b_seats: np.ndarray, is_mobile: np.ndarray, spec: AllocationSpec, rng: np.random.Generator
) -> np.ndarray:
    """Number of posts of each bucket: exactly ``spec.posts`` in all, or about
    ``spec.seats_per_post`` seats a post; one post for the mobile-service seats."""
    nb = len(b_seats)
    if spec.posts is not None:
        lo = np.ones(nb, dtype=np.int64)
        hi = np.where(is_mobile, 1, b_seats)
        if spec.posts < nb or spec.posts > hi.sum():
            raise ValueError(
                f"cannot declare exactly {spec.posts} posts over {nb} (county, category) buckets "
                f"with {int(b_seats.sum())} seats; expected between {nb} and {int(hi.sum())}"
            )
        return apportion(spec.posts, b_seats * rng.uniform(0.7, 1.3, nb), lo, hi)
    n_posts = np.round(b_seats / spec.seats_per_post * rng.uniform(0.75, 1.25, nb))
    n_posts = np.clip(n_posts, 1, b_seats).astype(np.int64)
    n_posts[is_mobile] = 1
    return n_posts


def _seats_of_posts(
    b_seats: np.ndarray, n_posts: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Seats of each post: 1 each, the bucket's remaining seats spread at random."""
    nb = len(b_seats)
    first = np.cumsum(n_posts) - n_posts
    extra_bucket = np.repeat(np.arange(nb), b_seats - n_posts)
    pick = first[extra_bucket] + np.floor(
        rng.random(len(extra_bucket)) * n_posts[extra_bucket]
    ).astype(np.int64)
    return 1 + np.bincount(pick, minlength=int(n_posts.sum()))


def _held_seats(
    b_held: np.ndarray, n_posts: np.ndarray, post_seats: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Seats of each post held by continuing volunteers: drawn without replacement among the
    seats of the post's bucket."""
    first = np.cumsum(n_posts) - n_posts
    post_held = np.zeros(int(n_posts.sum()), dtype=np.int64)
    for b in np.flatnonzero(b_held):
        members = np.arange(first[b], first[b] + n_posts[b])
        seat_owner = np.repeat(members, post_seats[members])
        chosen = rng.choice(len(seat_owner), size=int(b_held[b]), replace=False)
        np.add.at(post_held, seat_owner[chosen], 1)
    return post_held


def _township_rows(
    quotas: pd.DataFrame,
    townships: pd.DataFrame,
    county_of_post: np.ndarray,
    post_cat: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Row in ``townships`` of each post's township (D3); mobile posts at township 001 (the
    county seat, where the station is)."""
    n = len(quotas)
    town_count = np.bincount(
        pd.Index(quotas["county_code"]).get_indexer(townships["county_code"]), minlength=n
    )
    if (town_count < 1).any():
        raise ValueError("every service county needs at least one township")
    town_first = np.cumsum(town_count) - town_count
    local = np.floor(rng.random(len(county_of_post)) * town_count[county_of_post]).astype(np.int64)
    local[post_cat == "mobile_service"] = 0
    return town_first[county_of_post] + local


def _requirements(
    post_cat: np.ndarray, spec: AllocationSpec, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``relay``, ``required_majors`` (with ``spec.d6_warnings`` D6 cases) and ``min_degree``
    of each post."""
    total_posts = len(post_cat)
    relay_p = np.asarray([_RELAY_CHANCE[c] for c in post_cat])
    relay = rng.random(total_posts) < relay_p
    roll = rng.random(total_posts)
    required = np.full(total_posts, "", dtype=object)
    for cat, (p, value) in _REQUIRED_MAJORS.items():
        required[(post_cat == cat) & (roll < p)] = value
    if spec.d6_warnings:
        edu = np.flatnonzero(post_cat == "education")
        chosen = rng.choice(edu, size=min(spec.d6_warnings, len(edu)), replace=False)
        required[chosen] = "education"
    roll = rng.random(total_posts)
    min_degree = np.full(total_posts, "", dtype=object)
    min_degree[(roll < 0.08) & (post_cat != "mobile_service")] = "bachelor"
    min_degree[(roll < 0.15) & (post_cat == "development_finance")] = "master"
    return relay, required, min_degree
