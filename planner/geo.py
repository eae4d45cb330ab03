"""Great-circle distances and the hierarchy of area codes.

Distances are on the sphere of the planning model (section 1), radius 6371.0088 km. Area
codes are the six-digit codes of GB/T 2260: a county ``PPCCXX`` lies in province ``PP0000``,
and an ordinary county in prefecture ``PPCC00``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), the sphere of the planning model."""


def haversine_km(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (element-wise)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


PROVINCE_SUFFIX = "0000"
"""The last four digits of a province code."""


def province_of(code: str) -> str:
    """The province code of an area code: its first two digits and ``0000``."""
    return code[:2] + PROVINCE_SUFFIX


def provinces_of(codes: ArrayLike) -> np.ndarray:
    """:func:`province_of` of every code (strings, a numpy array or a pandas column of them)
    as a numpy array of strings."""
    return np.char.add(np.asarray(codes, dtype=str).astype("<U2"), PROVINCE_SUFFIX)


def is_province_code(code: str) -> bool:
    """Whether a six-digit area code names a province (it ends in ``0000``)."""
    return code.endswith(PROVINCE_SUFFIX)


def prefecture_of(code: str) -> str:
    """The prefecture code that a county code's digits name: its first four digits and
    ``00``. Ordinary counties belong to it; Chongqing's counties and the county-level units
    under a province directly do not (``geodata.china`` keeps the real parent)."""
    return code[:4] + "00"
