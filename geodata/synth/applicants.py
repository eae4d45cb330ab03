"""Applicants of a synthetic allocation scenario.

:func:`applicants_table` works in phases: applicants per recruiting province in proportion to
its recruitment target (a few provinces short of bachelors); per province their degrees, home
counties and up to five preferences among the paired service provinces and their open
counties; then each applicant's major, preferred categories, term and health check. Every phase
draws from the one ``applicants`` stream in this order, so the same seed gives the same people.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from geodata.synth.allocation_spec import AllocationSpec
from geodata.synth.common import apportion, make_rng
from planner.scenario import DEGREES, MAJOR_CLASSES, SPECIAL_ACTIONS
from planner.schema import APPLICANTS

_MAJOR_MIX = np.array([0.22, 0.10, 0.08, 0.08, 0.10, 0.12, 0.08, 0.08, 0.05, 0.07, 0.02])
"""Share of each major class among applicants, in ``MAJOR_CLASSES`` order."""

_DEGREE_MIX = np.array([0.11, 0.82, 0.055, 0.015])
"""Degree mix of an ordinary recruiting province (junior_college, bachelor, master, doctor)."""

_DEGREE_MIX_SHORT = np.array([0.30, 0.64, 0.05, 0.01])
"""Degree mix of a recruiting province short of bachelors (70 % bachelor or higher)."""

_CATEGORY_OF_MAJOR: Mapping[str, tuple[str, ...]] = {
    "education": ("education", "youth_center"),
    "medicine": ("health", "mobile_service"),
    "agriculture": ("agriculture",),
    "law": ("legal_aid", "court", "procuratorate"),
    "economics_finance": ("development_finance",),
    "engineering": ("remote_education", "agriculture"),
    "science": ("education", "remote_education"),
    "humanities": ("rural_culture", "education"),
    "arts": ("rural_culture",),
    "management": ("youth_center", "development_finance"),
    "other": ("other",),
}
"""Categories an applicant of a major class may name in ``preferred_categories``."""

_PREF_COUNT_MIX = np.array([0.15, 0.20, 0.30, 0.20, 0.15])
"""Share of applicants with 1..5 preferences."""

APPLICANT_COLUMNS: tuple[str, ...] = tuple(c.name for c in APPLICANTS.columns)
"""The columns of ``applicants.csv``, in the order of the contract
(:data:`planner.schema.APPLICANTS`)."""

_OpenCounties = dict[str, tuple[np.ndarray, np.ndarray]]
"""Per service province: its counties open to preferences and their weights (sum 1)."""


def applicants_table(
    quotas: pd.DataFrame,
    pairing: pd.DataFrame,
    targets: pd.DataFrame,
    spec: AllocationSpec,
    seed: int,
    home_counties: pd.DataFrame,
) -> pd.DataFrame:
    """Applicants in proportion to the recruitment targets, preferring paired provinces."""
    rng = make_rng(seed, "applicants")
    recruit = targets[targets["role"] == "recruit"]
    r_codes = recruit["province_code"].to_numpy(str)
    r_target = recruit["target"].to_numpy(float)
    per_r = apportion(
        spec.applicants, r_target, minimum=1 if spec.applicants >= len(r_codes) else 0
    )
    short = _short_of_bachelors(per_r, spec, rng)
    county_by_s = _open_counties(quotas)
    service = targets["role"] == "service"
    dispatch = dict(
        zip(targets.loc[service, "province_code"], targets.loc[service, "target"], strict=True)
    )
    home_codes = home_counties["code"].to_numpy(str)
    home_prov = home_counties["province_code"].to_numpy(str)

    rec_col: list[np.ndarray] = []
    deg_col: list[np.ndarray] = []
    home_col: list[np.ndarray] = []
    pref_col: list[np.ndarray] = []
    for r, m, is_short in zip(r_codes, per_r, short, strict=True):
        m = int(m)
        if m == 0:
            continue
        mix = np.cumsum(_DEGREE_MIX_SHORT if is_short else _DEGREE_MIX)
        deg_col.append(np.minimum(np.searchsorted(mix, rng.random(m) * mix[-1], side="right"), 3))
        rec_col.append(np.full(m, r))
        homes = home_codes[home_prov == r]
        if len(homes) == 0:
            raise ValueError(f"recruiting province {r} has no county for applicants' homes")
        home_col.append(homes[rng.integers(0, len(homes), m)])
        pref_col.append(_preferences(str(r), m, pairing, county_by_s, dispatch, rng))

    recruit_province = np.concatenate(rec_col)
    total = len(recruit_province)
    degree = np.asarray(DEGREES)[np.concatenate(deg_col)]
    prefs = np.concatenate(pref_col).astype(str)
    major, preferred, term, health = _profiles(total, rng)

    order = rng.permutation(total)
    frame = pd.DataFrame(
        {
            "applicant_id": [f"A{i:06d}" for i in range(1, total + 1)],
            "recruit_province": recruit_province[order],
            "degree": degree[order],
            "major_class": major[order],
            **{f"pref_{j + 1}": prefs[order, j] for j in range(5)},
            "home_county_code": np.concatenate(home_col)[order],
            "home_lon": np.full(total, np.nan),
            "home_lat": np.full(total, np.nan),
            "preferred_categories": preferred[order].astype(str),
            "term_years": term[order].astype(np.int64),
            "health_ok": health[order],
        },
        columns=list(APPLICANT_COLUMNS),
    )
    return frame


def _short_of_bachelors(
    per_r: np.ndarray, spec: AllocationSpec, rng: np.random.Generator
) -> np.ndarray:
    """Recruiting provinces short of bachelors: among the larger ones, so the effect is
    visible."""
    k_short = min(spec.short_provinces, len(per_r))
    big = np.argsort(-per_r, kind="stable")[: max(k_short, (len(per_r) + 1) // 2)]
    short = np.zeros(len(per_r), dtype=bool)
    if k_short:
        short[rng.choice(np.sort(big), size=k_short, replace=False)] = True
    return short


def _open_counties(quotas: pd.DataFrame) -> _OpenCounties:
    """Service counties open to preferences: not barred, weighted by quota."""
    open_q = quotas[~quotas["barred"].to_numpy(bool)]
    q_open = open_q["general_quota"].to_numpy(float) + open_q[
        [f"{a}_quota" for a in SPECIAL_ACTIONS]
    ].to_numpy(float).sum(axis=1)
    open_codes = open_q["county_code"].to_numpy(str)
    open_prov = open_q["province_code"].to_numpy(str)
    county_by_s: _OpenCounties = {}
    for s in np.unique(open_prov):
        mask = open_prov == s
        county_by_s[str(s)] = (open_codes[mask], q_open[mask] / q_open[mask].sum())
    return county_by_s


def _preferences(
    r: str,
    m: int,
    pairing: pd.DataFrame,
    county_by_s: _OpenCounties,
    dispatch: Mapping[str, int],
    rng: np.random.Generator,
) -> np.ndarray:
    """``pref_1`` .. ``pref_5`` of the ``m`` applicants of recruiting province ``r``, shape
    (m, 5), ``""`` past each one's number of preferences."""
    paired = sorted(
        s
        for s in pairing.loc[pairing["recruit_province"] == r, "service_province"]
        if s in county_by_s
    )
    if not paired:
        raise ValueError(f"recruiting province {r} has no paired service province with counties")
    # Up to 5 distinct choices among the paired provinces and their counties, drawn
    # without replacement (Gumbel top-k): a province first in 60 % of the cases.
    cand: list[str] = []
    weight: list[float] = []
    mass = sum(dispatch[s] for s in paired)
    for s in paired:
        cand.append(s)
        weight.append(0.6 * dispatch[s] / mass)
        cc, cw = county_by_s[s]
        cand.extend(cc.tolist())
        weight.extend((0.4 * dispatch[s] / mass * cw).tolist())
    codes = np.asarray(cand)
    k = min(5, len(codes))
    keys = np.log(np.asarray(weight))[None, :] + rng.gumbel(size=(m, len(codes)))
    top = np.argsort(-keys, axis=1, kind="stable")[:, :k]
    prefs = np.full((m, 5), "", dtype=object)
    prefs[:, :k] = codes[top]
    n_pref = rng.choice(5, size=m, p=_PREF_COUNT_MIX) + 1
    prefs[np.arange(5)[None, :] >= n_pref[:, None]] = ""
    return prefs


def _profiles(
    total: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Major class, preferred categories, term (years) and health check of each applicant."""
    major = np.asarray(MAJOR_CLASSES)[rng.choice(len(MAJOR_CLASSES), size=total, p=_MAJOR_MIX)]
    preferred = np.full(total, "", dtype=object)
    wants = rng.random(total) < 0.25
    pick = rng.random(total)
    for mc, cats in _CATEGORY_OF_MAJOR.items():
        sel = wants & (major == mc)
        preferred[sel] = np.asarray(cats)[np.floor(pick[sel] * len(cats)).astype(np.int64)]
    term = np.where(rng.random(total) < 0.7, 1, 2)
    health = rng.random(total) >= 0.02
    return major, preferred, term, health
