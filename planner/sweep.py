"""Scenario sweeps: the same scenario planned under changed rules, weights or quotas.

Policy questions ("what if the bachelor share were 80%?", "what if Tibet's quota rose by
10%?") are answered by planning every variant to its certified optimum and comparing. A
sweep is the cross product of :class:`Vary` axes, each a key and its values:

- ``rules.KEY``: any number or yes/no of ``[rules]`` in ``scenario.toml``
  (:class:`~planner.scenario.Rules`), e.g. ``rules.undergraduate_min_share=0.8,0.85``;
- ``weights.KEY``: any objective weight of ``[weights]`` (:class:`~planner.scenario.Weights`);
- ``quota_scale.PROVINCE``: every quota (general and special) of the service counties of the
  province with that six-digit code times the factor, rounded half up, and the province's
  dispatch target likewise, e.g. ``quota_scale.540000=1.1``.

The base scenario is planned too, and each variant is compared with it. Every plan (base
and variants) is a task of :func:`planner.workers.map_tasks` (label ``variant``), so the
variants run in parallel on the local processes or a Dask cluster; each is solved in one
process (its own independent parts one after another).

The keys of the declaration rules D1/D2 (``general_post_ratio``, ``special_post_ratio``,
``other_max_share``) are checked when a scenario is read; a sweep re-plans with the changed
value but does not re-validate the declarations.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from planner.i18n import N_, Text
from planner.plan import AllocationParams, allocate
from planner.scenario import (
    MAX_QUOTA_SCALE,
    MAX_WEIGHT,
    RULE_RANGES,
    Rules,
    Scenario,
    ScenarioData,
    Weights,
    share_fraction,
)
from planner.workers import map_tasks

log = logging.getLogger(__name__)

Value = float | int | bool
"""A value of a varied key."""

_SECTIONS: dict[str, type[Any]] = {"rules": Rules, "weights": Weights}

COLUMNS: tuple[str, ...] = (
    "variant",
    "changes",
    "status",
    "optimal",
    "objective",
    "term_relay_empty",
    "term_quota_unfilled",
    "term_preference",
    "term_major_mismatch",
    "term_transport",
    "term_replan_moves",
    "lower_bound",
    "gap",
    "placed",
    "unplaced",
    "quota_unfilled",
    "relay_empty_seats",
    "budget_cny",
    "wasted_seats",
    "justified_envy",
    "moved_from_base",
    "solve_seconds",
)
"""The columns of ``sweep.csv``, one row per plan (the base first)."""


class VaryError(ValueError):
    """A key or value of a sweep that cannot be used.

    ``text`` is the message as a template of the catalogue and its fields, rendered in the
    reader's language (the HTTP service answers it in the request's); ``str()`` renders it
    in the language of the moment.
    """

    def __init__(self, template: str, **fields: Any) -> None:
        self.text = Text(template, fields)
        super().__init__(template)

    def __str__(self) -> str:
        return self.text.render()


@dataclass(frozen=True, slots=True)
class Vary:
    """One axis of a sweep: a key and the values it takes."""

    key: str
    values: tuple[Value, ...]

    @classmethod
    def parse(cls, text: str) -> Vary:
        """``KEY=V1,V2,...`` as a :class:`Vary`.

        Raises
        ------
        VaryError
            Naming the key or value that is wrong and what is expected.
        """
        key, sep, values = text.partition("=")
        key = key.strip()
        if not sep or not values.strip():
            raise VaryError(
                N_("--vary {text!r}; expected KEY=V1,V2,... such as {example}"),
                text=text,
                example=_EXAMPLE,
            )
        kind = _kind(key)
        parsed = tuple(_value(key, kind, v.strip()) for v in values.split(","))
        if len(set(parsed)) != len(parsed):
            raise VaryError(N_("--vary {text!r}: a value is given twice"), text=text)
        return cls(key, parsed)


_EXAMPLE = "rules.undergraduate_min_share=0.8,0.85 or quota_scale.540000=1.1"


def _kind(key: str) -> Any:
    """The default value of a key (whose type the values take), or ``1.0`` for a scale."""
    section, _, name = key.partition(".")
    if section == "quota_scale":
        if not (len(name) == 6 and name.isdigit() and name.endswith("0000")):
            raise VaryError(
                N_(
                    "--vary {key}: expected quota_scale.PROVINCE with a six-digit province "
                    "code such as quota_scale.540000"
                ),
                key=key,
            )
        return 1.0
    cls = _SECTIONS.get(section)
    scalars = {} if cls is None else {n: getattr(cls(), n) for n in _scalar_names(cls)}
    if name not in scalars:
        known = [f"{s}.{n}" for s, c in _SECTIONS.items() for n in _scalar_names(c)]
        raise VaryError(
            N_("--vary {key}: unknown key; expected quota_scale.PROVINCE or one of {known}"),
            key=key,
            known=", ".join(known),
        )
    return scalars[name]


def _scalar_names(cls: type[Any]) -> list[str]:
    default = cls()
    return [f.name for f in fields(cls) if isinstance(getattr(default, f.name), int | float)]


def _value(key: str, kind: Any, text: str) -> Value:
    """One value of ``key`` in the type of its default."""
    try:
        if isinstance(kind, bool):
            if text.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "yes", "1")
        value: Value = int(text) if isinstance(kind, int) else float(text)
    except ValueError:
        raise VaryError(
            N_("--vary {key}: found {found!r}; expected a value like {like!r}"),
            key=key,
            found=text,
            like=kind,
        ) from None
    if value < 0 or (isinstance(value, float) and not math.isfinite(value)):
        raise VaryError(
            N_("--vary {key}: found {found!r}; expected a number >= 0"), key=key, found=text
        )
    if key == "rules.undergraduate_min_share" and (value > 1 or share_fraction(text) is None):
        raise VaryError(
            N_(
                "--vary {key}: found {found!r}; expected a share between 0 and 1 with at most "
                "four decimals, like 0.85"
            ),
            key=key,
            found=text,
        )
    if key.startswith("quota_scale.") and not 0 < value <= MAX_QUOTA_SCALE:
        raise VaryError(
            N_("--vary {key}: found {found!r}; expected a factor > 0 and at most {most:g}"),
            key=key,
            found=text,
            most=MAX_QUOTA_SCALE,
        )
    rule = key.removeprefix("rules.")
    if key.startswith("rules.") and rule in RULE_RANGES:
        least, most = RULE_RANGES[rule]
        if not least <= value <= most:
            raise VaryError(
                N_("--vary {key}: found {found!r}; expected a number from {least:g} to {most:g}"),
                key=key,
                found=text,
                least=least,
                most=most,
            )
    if key.startswith("weights.") and value > MAX_WEIGHT:
        raise VaryError(
            N_("--vary {key}: found {found!r}; expected a weight of at most {most:,}"),
            key=key,
            found=text,
            most=MAX_WEIGHT,
        )
    return value


def variants(axes: Sequence[Vary]) -> list[dict[str, Value]]:
    """The cross product of the axes: one ``{key: value}`` per variant, the first axis
    varying slowest.

    Raises
    ------
    VaryError
        When a key is varied twice.
    """
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise VaryError(N_("--vary: a key is varied twice ({keys})"), keys=", ".join(keys))
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(a.values for a in axes))
    ]


def apply(scenario: Scenario, changes: Mapping[str, Value]) -> Scenario:
    """The scenario with the changes of one variant (see the module docstring)."""
    data = scenario.data
    rules: dict[str, Any] = {}
    weights: dict[str, Any] = {}
    scales: dict[str, float] = {}
    for key, value in changes.items():
        section, _, name = key.partition(".")
        if section == "rules":
            rules[name] = value
        elif section == "weights":
            weights[name] = value
        else:
            scales[name] = float(value)
    new: ScenarioData = dataclasses.replace(
        data,
        rules=dataclasses.replace(data.rules, **rules),
        weights=dataclasses.replace(data.weights, **weights),
    )
    if scales:
        new = _scale_quotas(new, scales)
    return dataclasses.replace(scenario, _data=new)


def check_province(key: str, provinces: Collection[str]) -> None:
    """Check that a ``quota_scale.PROVINCE`` key names one of the scenario's service
    ``provinces`` (other keys pass).

    Raises
    ------
    VaryError
        Naming the province and the ones the scenario serves.
    """
    section, _, code = key.partition(".")
    if section == "quota_scale" and code not in provinces:
        raise VaryError(
            N_(
                "--vary quota_scale.{code}: the scenario has no service county in {code}; "
                "expected one of {codes}"
            ),
            code=code,
            codes=", ".join(sorted(provinces)) or "-",
        )


def _round_half_up(a: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(a, dtype=float) + 0.5 + 1e-9).astype(np.int64)


def _scale_quotas(data: ScenarioData, scales: Mapping[str, float]) -> ScenarioData:
    """Quotas of the service counties of each province, and its dispatch target, scaled."""
    quotas, targets = data.quotas, data.targets
    if quotas is None:
        raise VaryError(N_("quota_scale: the scenario has no quotas"))
    factor = np.ones(len(quotas))
    province = np.array([c[:2] + "0000" for c in quotas.county_code.tolist()])
    served = set(province.tolist())
    for code, f in scales.items():
        check_province(f"quota_scale.{code}", served)
        factor[province == code] = f
    quotas = dataclasses.replace(
        quotas,
        general_quota=_round_half_up(quotas.general_quota * factor),
        special_quota=_round_half_up(quotas.special_quota * factor[:, None]),
    )
    if targets is not None:
        scale = np.array(
            [
                scales.get(str(p), 1.0) if str(r) == "service" else 1.0
                for p, r in zip(targets.province_code, targets.role, strict=True)
            ]
        )
        targets = dataclasses.replace(targets, target=_round_half_up(targets.target * scale))
    return dataclasses.replace(data, quotas=quotas, targets=targets)


@dataclass(frozen=True, slots=True)
class VariantOutcome:
    """One planned variant: its ``sweep.csv`` row and where its volunteers are placed."""

    row: dict[str, Any]
    placements: pd.DataFrame
    """``applicant_id``, ``post_id``, ``county_code`` of every placed volunteer."""


def plan_variant(
    scenario: Scenario, changes: Mapping[str, Value], params: AllocationParams
) -> VariantOutcome:
    """Plan one variant to its certified optimum (a task of the sweep: a top-level function)."""
    plan = allocate(apply(scenario, changes), params)
    s = plan.summary
    terms = s.terms
    row = {
        "changes": "; ".join(f"{k}={v}" for k, v in changes.items()) or "(base)",
        "status": str(s.status),
        "optimal": bool(s.optimal),
        "objective": s.objective,
        "term_relay_empty": terms.relay_empty,
        "term_quota_unfilled": terms.quota_unfilled,
        "term_preference": terms.preference,
        "term_major_mismatch": terms.major_mismatch,
        "term_transport": terms.transport_subsidy,
        "term_replan_moves": terms.replan_moves,
        "lower_bound": s.lower_bound,
        "gap": s.gap,
        "placed": s.counts.placed,
        "unplaced": s.counts.unplaced,
        "quota_unfilled": s.counts.quota_unfilled_units,
        "relay_empty_seats": s.counts.relay_empty_seats,
        "budget_cny": s.budget_cny.total,
        "wasted_seats": s.fairness.wasted_seats,
        "justified_envy": s.fairness.justified_envy,
        "solve_seconds": s.total_seconds,
    }
    placements = plan.assignments[["applicant_id", "post_id", "county_code"]].copy()
    return VariantOutcome(row, placements.reset_index(drop=True))


@dataclass(frozen=True, slots=True)
class Sweep:
    """The plans of a sweep.

    Attributes
    ----------
    scenario : Scenario
        The base scenario.
    axes : tuple of Vary
    changes : list of dict
        Each variant's changes; the base (no change) first.
    outcomes : list of VariantOutcome
        In the order of ``changes``.
    seconds : float
        Wall time of the sweep.
    """

    scenario: Scenario
    axes: tuple[Vary, ...]
    changes: list[dict[str, Value]]
    outcomes: list[VariantOutcome]
    seconds: float

    @property
    def table(self) -> pd.DataFrame:
        """``sweep.csv``: one row per plan (:data:`COLUMNS`), the base first (variant 0)."""
        base = self.outcomes[0].placements.set_index("applicant_id")["post_id"]
        rows = []
        for k, out in enumerate(self.outcomes):
            post = out.placements.set_index("applicant_id")["post_id"]
            both = base.index.intersection(post.index)
            moved = int((base.loc[both] != post.loc[both]).sum())
            moved += len(base.index.symmetric_difference(post.index))
            rows.append({"variant": k, **out.row, "moved_from_base": moved})
        return pd.DataFrame(rows, columns=list(COLUMNS))

    def changes_by_county(self) -> pd.DataFrame:
        """Per variant and county: volunteers placed in the base and in the variant, their
        difference, and the volunteers placed there in one plan and not in the other."""
        base = self.outcomes[0].placements
        frames = []
        for k, out in enumerate(self.outcomes[1:], start=1):
            v = out.placements
            a = base.groupby("county_code").size().rename("base")
            b = v.groupby("county_code").size().rename("variant_placed")
            pairs = set(zip(base["applicant_id"], base["county_code"], strict=True))
            here = set(zip(v["applicant_id"], v["county_code"], strict=True))
            came = pd.Series([c for _, c in here - pairs], dtype=str).value_counts()
            left = pd.Series([c for _, c in pairs - here], dtype=str).value_counts()
            f = pd.concat([a, b], axis=1).fillna(0).astype(np.int64)
            f["arrived"] = came.reindex(f.index).fillna(0).astype(np.int64)
            f["left"] = left.reindex(f.index).fillna(0).astype(np.int64)
            f["change"] = f["variant_placed"] - f["base"]
            f.insert(0, "variant", k)
            frames.append(f.rename_axis("county_code").reset_index())
        columns = ["variant", "county_code", "base", "variant_placed", "arrived", "left", "change"]
        if not frames:
            return pd.DataFrame(columns=columns)
        return pd.concat(frames, ignore_index=True)[columns]

    def __repr__(self) -> str:
        gaps = [o.row["gap"] for o in self.outcomes]
        return (
            f"<Sweep of {self.scenario.name!r}: {len(self.outcomes) - 1} variants and the base, "
            f"largest gap {max(gaps):.4%}, {self.seconds:.1f} s>"
        )


def sweep(
    scenario: Scenario,
    axes: Sequence[Vary],
    params: AllocationParams | None = None,
    workers: int | None = None,
) -> Sweep:
    """Plan the base scenario and every variant of the axes' cross product.

    Parameters
    ----------
    scenario
        A valid scenario with allocation tables.
    axes
        The keys varied and their values (:meth:`Vary.parse`).
    params
        Time limit and gap tolerance of each plan (each in one process: ``workers`` of it
        is ignored).
    workers
        Plans at once; ``None``: the scheduler's default (a process per core, or the
        cluster's workers).

    Raises
    ------
    ScenarioError
        When the scenario has errors or no allocation tables.
    VaryError
        When a key is varied twice or a quota scale names a province the scenario lacks.
    """
    from planner.workers import default_workers

    params = dataclasses.replace(params or AllocationParams(), workers=1)
    t0 = time.perf_counter()
    changes = [{}, *variants(axes)]
    for c in changes[1:]:
        apply(scenario, c)  # a wrong province fails here, before any solve
    outcomes = map_tasks(
        plan_variant,
        [(scenario, c, params) for c in changes],
        workers or default_workers(),
        label="variant",
    )
    seconds = time.perf_counter() - t0
    log.info("swept %d variants of %s in %.1f s", len(changes) - 1, scenario.name, seconds)
    return Sweep(scenario, tuple(axes), changes, outcomes, seconds)
