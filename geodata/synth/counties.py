"""Choosing the service counties of a synthetic scenario and sizing their townships.

Used by every synthetic scenario (:mod:`geodata.synth.western`, :mod:`geodata.synth.huaihua`,
:mod:`geodata.synth.tiers`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.synth.common import equal_area_km2


def county_weights(counties: pd.DataFrame) -> np.ndarray:
    """Weights for choosing service counties: rural counties (县, 旗) before districts (区).

    County-level units administered by the XPCC (6590xx) and Haixi's directly administered
    area (名 ending in 直辖) get weight 0.
    """
    names = counties["name"].astype(str)
    codes = counties["code"].astype(str)
    w = np.where(
        names.str.endswith(("县", "旗")),
        3.0,
        np.where(names.str.endswith("市"), 1.5, np.where(names.str.endswith("区"), 0.5, 0.0)),
    )
    w[codes.str.startswith("6590").to_numpy() | names.str.endswith("直辖").to_numpy()] = 0.0
    return np.asarray(w, dtype=float)


def choose_counties(
    frame: gpd.GeoDataFrame, k: int, rng: np.random.Generator, weighted: bool = True
) -> gpd.GeoDataFrame:
    """Choose ``k`` counties of ``frame`` without replacement; rows sorted by code."""
    if k >= len(frame):
        return frame.sort_values("code").reset_index(drop=True)
    w = county_weights(frame) if weighted else np.ones(len(frame))
    if (w > 0).sum() < k:
        w = np.where(w > 0, w, 0.1)
    idx = rng.choice(len(frame), size=k, replace=False, p=w / w.sum())
    return frame.iloc[np.sort(idx)].sort_values("code").reset_index(drop=True)


def townships_by_area(area_km2: np.ndarray) -> np.ndarray:
    """Synthetic townships per county from its area: 6 to 30 (about 4 + sqrt(area) / 6)."""
    return np.clip(np.round(4 + np.sqrt(np.asarray(area_km2)) / 6), 6, 30).astype(np.int64)


def area_of(frame: gpd.GeoDataFrame) -> np.ndarray:
    """County areas in km², from ``area_km2`` when present."""
    if "area_km2" in frame.columns:
        return frame["area_km2"].to_numpy(dtype=float)
    return equal_area_km2(frame)
