"""Synthetic scenarios on real geography (SYNTHETIC DATA: every table, never the polygons).

Generators return an in-memory :class:`SyntheticScenario`; :func:`write_scenario` writes it as a
scenario folder (``scenario.toml``, the CSVs of the data contract and a ``README.txt`` that
says SYNTHETIC). The same seed gives byte-identical files.

- :func:`generate_western_2006` — the 2006 Western Plan (seed 1): 12 western provinces, 6,500
  new-volunteer seats.
- :func:`generate_huaihua_screening` — Huaihua's mobile screening vehicles (seed 3): 290
  township stops, 995,605 women of reproductive age.
- :func:`generate_tier` — the scale tiers ``county``, ``prefecture``, ``province``,
  ``national`` of the planning model (section 4).
- :func:`generate` — any of them by its built-in name (``western-2006``,
  ``huaihua-screening``, ``tier-<tier>``).
"""

from __future__ import annotations

from geodata.synth.common import (
    DEFAULT_RULES,
    DEFAULT_WEIGHTS,
    MAINLAND_PROVINCES,
    WESTERN_PROVINCES,
    SyntheticScenario,
    write_scenario,
)
from geodata.synth.huaihua import generate_huaihua_screening
from geodata.synth.tiers import TIERS, generate_tier
from geodata.synth.western import generate_western_2006

__all__ = [
    "DEFAULT_RULES",
    "DEFAULT_WEIGHTS",
    "MAINLAND_PROVINCES",
    "SCENARIO_NAMES",
    "TIERS",
    "WESTERN_PROVINCES",
    "SyntheticScenario",
    "generate",
    "generate_huaihua_screening",
    "generate_tier",
    "generate_western_2006",
    "write_scenario",
]

SCENARIO_NAMES: tuple[str, ...] = (
    "western-2006",
    "huaihua-screening",
    *(f"tier-{t}" for t in TIERS),
)
"""Names of the generated scenarios."""


def generate(name: str, seed: int | None = None) -> SyntheticScenario:
    """Generate a synthetic scenario by name, with its default seed unless ``seed`` is given.

    Parameters
    ----------
    name : str
        One of :data:`SCENARIO_NAMES`.
    seed : int, optional
        Overrides the scenario's default seed (2006, 431200, 0 for the tiers).

    Returns
    -------
    SyntheticScenario

    Raises
    ------
    KeyError
        For an unknown name.
    """
    if name == "western-2006":
        return generate_western_2006() if seed is None else generate_western_2006(seed)
    if name == "huaihua-screening":
        return generate_huaihua_screening() if seed is None else generate_huaihua_screening(seed)
    tier = name.removeprefix("tier-")
    if name.startswith("tier-") and tier in TIERS:
        return generate_tier(tier) if seed is None else generate_tier(tier, seed)
    raise KeyError(
        f"unknown synthetic scenario {name!r}; expected one of {', '.join(SCENARIO_NAMES)}"
    )
