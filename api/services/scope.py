"""The province scope: which provinces a scenario serves, and so who may see it and what was
made from it.

Every lookup of a scenario by id goes through :func:`get_scenario` (and of plans, jobs and
sweeps through their scenario's scope). A scenario's scope is the set of provinces of the counties it serves (quotas, posts, stations,
stops), each county's province named by :func:`planner.geo.provinces_of`; it is stored with
the scenario (``ScenarioRow.provinces``) and compared with the caller's
(:meth:`~api.core.api_keys.Principal.sees`). A province key never learns that another
province's resource exists: the services answer it as an unknown id.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.core.api_keys import Principal
from api.core.errors import NotFound
from api.db.models import ScenarioRow
from planner.geo import provinces_of
from planner.i18n import N_
from planner.scenario import Scenario


def scenario_scope(scenario: Scenario) -> frozenset[str]:
    """Province codes of the counties the scenario serves (quotas, posts, stations, stops)."""
    s = scenario.data
    used = [
        t.county_code for t in (s.quotas, s.posts, s.stations, s.stops) if t is not None and len(t)
    ]
    if not used:
        return frozenset()
    return frozenset(provinces_of(np.concatenate(used)).tolist())


def stored(scope: frozenset[str]) -> str:
    """A scope as the scenario row keeps it (``"450000,520000"``)."""
    return ",".join(sorted(scope))


def parsed(text: str) -> frozenset[str]:
    """A scope from the form a row keeps it in (:func:`stored`)."""
    return frozenset(p for p in text.split(",") if p)


def provinces(row: ScenarioRow) -> frozenset[str]:
    """The scope of a scenario row."""
    return parsed(row.provinces)


def sees(who: Principal, row: ScenarioRow) -> bool:
    """Whether ``who`` may see the scenario ``row`` and everything made from it."""
    return who.sees(provinces(row))


def visible(who: Principal, rows: Iterable[ScenarioRow]) -> set[str]:
    """The ids of the scenario rows that ``who`` sees."""
    return {r.id for r in rows if sees(who, r)}


def list_scenarios(session: Session, who: Principal) -> list[ScenarioRow]:
    """The scenarios the caller sees, newest first."""
    rows = session.scalars(select(ScenarioRow).order_by(ScenarioRow.created_at.desc())).all()
    return [r for r in rows if sees(who, r)]


def get_scenario(session: Session, who: Principal, scenario_id: str) -> ScenarioRow:
    """One scenario; :class:`~api.core.errors.NotFound` when unknown or outside the caller's
    province (the same answer)."""
    row = session.get(ScenarioRow, scenario_id)
    if row is None or not sees(who, row):
        raise NotFound(N_("no scenario {id!r}"), id=scenario_id)
    return row
