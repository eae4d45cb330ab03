"""Speeds of the road network: km/h per OSM ``highway`` class and the factors for unpaved
surfaces and track grades (``[routing.speeds]`` of ``scenario.toml`` overrides them).

The defaults are free-flow speeds of a service vehicle on Chinese county roads, rounded
down from the national design speeds (JTG B01-2014: expressway 80-120, class-1 60-100,
class-2 60-80, class-3 30-40, class-4 20-30 km/h) because a loaded minibus on a mountain
road drives below the design speed. Where the graph was built with an elevation model
(``planner roads build --elevation DEM.tif``), each directed arc's speed is also multiplied by
the factor of its slope class (:data:`UPHILL`, :data:`DOWNHILL`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

DEFAULT_KMH: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 50.0,
    "trunk": 70.0,
    "trunk_link": 40.0,
    "primary": 60.0,
    "primary_link": 35.0,
    "secondary": 50.0,
    "secondary_link": 30.0,
    "tertiary": 40.0,
    "tertiary_link": 25.0,
    "unclassified": 30.0,
    "road": 25.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "track": 15.0,
}
"""km/h per drivable ``highway`` class; a class not listed here is not drivable."""

MAX_KMH = 300.0
"""The fastest speed ``[routing.speeds]`` may give a class."""

MAX_FACTOR = 1.0
"""The largest speed factor (``unpaved``, ``gradeN``): a factor slows a way down."""

DEFAULT_UNPAVED = 0.6
"""Speed factor of a way with an unpaved ``surface`` (gravel, dirt, ground, ...)."""

DEFAULT_TRACKTYPE: dict[int, float] = {1: 1.0, 2: 0.8, 3: 0.6, 4: 0.5, 5: 0.4}
"""Speed factor per ``tracktype=gradeN`` (1 paved or solid ... 5 soft)."""

UPHILL: tuple[tuple[float, float], ...] = (
    (0.03, 1.0),
    (0.05, 0.95),
    (0.07, 0.85),
    (0.09, 0.75),
    (0.12, 0.6),
    (math.inf, 0.45),
)
"""Speed factor per uphill slope class: ``(upper grade, factor)``, a grade (rise / run) up to
the first bound falls in that class. The bounds are the maximum longitudinal grades of JTG
D20-2017 (Design Specification for Highway Alignment) for design speeds 120 (3%), 80 (5%),
40 (7%) and 20 km/h (9%); above 9% no public road class is designed, and 12% splits the
steep mountain tracks. The factors are this project's estimate for a loaded minibus
(docs/routing.md "Slope"), not measured."""

DOWNHILL: tuple[tuple[float, float], ...] = ((0.05, 1.0), (0.09, 0.9), (math.inf, 0.8))
"""Speed factor per downhill slope class (same form as :data:`UPHILL`): a descent is driven
slower only where it is steep (braking in low gear)."""


def slope_factor(grade: np.ndarray) -> np.ndarray:
    """The speed factor of each directed arc's grade (rise / run; positive uphill); 1 where
    the grade is unknown (``nan``: no elevation)."""
    g = np.asarray(grade, dtype=float)
    out = np.ones(g.shape)
    for table, sign in ((UPHILL, 1.0), (DOWNHILL, -1.0)):
        bounds = np.array([b for b, _ in table])
        factors = np.array([f for _, f in table])
        side = np.isfinite(g) & (sign * g > 0)
        out[side] = factors[np.searchsorted(bounds, sign * g[side], side="left")]
    return out


UNPAVED_SURFACES = frozenset(
    {
        "unpaved",
        "gravel",
        "fine_gravel",
        "compacted",
        "dirt",
        "earth",
        "ground",
        "grass",
        "mud",
        "sand",
        "pebblestone",
        "rock",
        "soil",
    }
)
"""``surface`` values counted as unpaved."""


@dataclass(frozen=True, slots=True)
class Speeds:
    """km/h per class and the surface factors used to turn metres into seconds."""

    kmh: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_KMH))
    unpaved: float = DEFAULT_UNPAVED
    tracktype: Mapping[int, float] = field(default_factory=lambda: dict(DEFAULT_TRACKTYPE))

    @classmethod
    def with_overrides(cls, given: Mapping[str, float] | None) -> Speeds:
        """The defaults with ``[routing.speeds]`` applied: a class name sets its km/h,
        ``unpaved`` the unpaved factor, ``grade1`` .. ``grade5`` the track factors.

        Raises
        ------
        ValueError
            When a key is unknown or a value is not a positive number.
        """
        kmh, unpaved, track = dict(DEFAULT_KMH), DEFAULT_UNPAVED, dict(DEFAULT_TRACKTYPE)
        for key, value in (given or {}).items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"[routing.speeds] {key} = {value!r}; expected a number > 0")
            is_grade = key.startswith("grade") and key[5:].isdigit() and int(key[5:]) in track
            if key not in kmh and key != "unpaved" and not is_grade:
                known = ", ".join([*kmh, "unpaved", "grade1..grade5"])
                raise ValueError(f"[routing.speeds] {key} is not known; expected one of {known}")
            most = MAX_KMH if key in kmh else MAX_FACTOR
            if not math.isfinite(value) or value > most:
                raise ValueError(f"[routing.speeds] {key} = {value!r}; expected at most {most}")
            if key in kmh:
                kmh[key] = float(value)
            elif key == "unpaved":
                unpaved = float(value)
            else:
                track[int(key[5:])] = float(value)
        return cls(kmh, unpaved, track)

    def as_dict(self) -> dict[str, object]:
        """The table as written in a manifest or a summary."""
        return {
            "kmh": dict(self.kmh),
            "unpaved": self.unpaved,
            "tracktype": {f"grade{k}": v for k, v in self.tracktype.items()},
            "slope": {
                "uphill": [[b if math.isfinite(b) else None, f] for b, f in UPHILL],
                "downhill": [[b if math.isfinite(b) else None, f] for b, f in DOWNHILL],
            },
        }

    def seconds(
        self,
        meters: np.ndarray,
        highway: np.ndarray,
        unpaved: np.ndarray,
        tracktype: np.ndarray,
        slope: np.ndarray | None = None,
    ) -> np.ndarray:
        """Seconds to drive each edge: metres / (class km/h x surface factor x slope factor).

        The surface factor is the track grade's where ``tracktype`` is set (1-5), else the
        unpaved factor on an unpaved surface, else 1; the slope factor is
        :func:`slope_factor` of ``slope`` (rise / run in the direction driven; ``None`` or
        ``nan``: 1).
        """
        names, inverse = np.unique(np.asarray(highway, dtype=str), return_inverse=True)
        kmh = np.array([self.kmh.get(c, np.nan) for c in names.tolist()], dtype=float)[inverse]
        grade = np.clip(np.asarray(tracktype, dtype=np.int64), 0, 5)
        table = np.array([1.0] + [self.tracktype.get(g, 1.0) for g in range(1, 6)])
        track = table[grade]
        factor = np.where(grade > 0, track, np.where(np.asarray(unpaved, bool), self.unpaved, 1.0))
        if slope is not None:
            factor = factor * slope_factor(slope)
        return np.asarray(meters, dtype=float) / (kmh * factor / 3.6)
