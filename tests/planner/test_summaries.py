"""summary.json as typed values: read by attribute, frozen, and written byte for byte as the
dict it always was."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import planner
from planner.summaries import PlanSummary, RoutingSummary, SummaryFile
from tests.support.results import guiyang

PLAN_KEYS = [
    "planner_version",
    "scenario",
    "status",
    "optimal",
    "objective",
    "terms",
    "lower_bound",
    "gap",
    "lp_bound",
    "build_seconds",
    "solve_seconds",
    "total_seconds",
    "pricing_rounds",
    "columns",
    "notes",
    "counts",
    "rules",
    "budget_cny",
    "unfilled_quota",
    "empty_relay_seats",
    "declaration_warnings",
    "decisions",
    "weights",
    "county_quota",
    "fairness",
    "routing",
]
"""The keys of a planned and routed folder's summary.json, in the order of the files written
before the summary was typed (docs/data-contract.md lists them)."""


@pytest.fixture(scope="module")
def folder(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, planner.Plan, planner.RoutePlan]:
    sc = guiyang()
    plan = planner.allocate(sc, planner.AllocationParams(time_limit=30))
    routes = planner.route(sc, plan.crews(), planner.RoutingParams(time_limit=10))
    out = tmp_path_factory.mktemp("summaries") / "plan"
    plan.write(out)
    routes.write(out)
    return out, plan, routes


def test_file_is_the_dict_form_byte_for_byte(
    folder: tuple[Path, planner.Plan, planner.RoutePlan],
) -> None:
    out, plan, routes = folder
    raw = (out / "summary.json").read_text(encoding="utf-8")
    doc = json.loads(raw)
    assert list(doc) == PLAN_KEYS
    # the written document is the plan's dict form with the routing part appended
    assert {k: v for k, v in doc.items() if k != "routing"} == json.loads(
        json.dumps(plan.summary.to_dict())
    )
    assert doc["routing"] == json.loads(json.dumps(routes.summary.to_dict()))
    # read and written again: the same bytes
    again = SummaryFile.from_dict(doc)
    assert json.dumps(again.to_dict(), ensure_ascii=False, indent=2) == raw
    assert again.plan == plan.summary and again.routing == routes.summary


def test_read_by_attribute_against_the_tables(
    folder: tuple[Path, planner.Plan, planner.RoutePlan],
) -> None:
    """Attributes agree with the plan's own tables, counted here."""
    _, plan, routes = folder
    s = plan.summary
    assert s.counts.placed == len(plan.assignments)
    assert s.counts.unplaced == len(plan.unassigned)
    assert s.budget_cny.total == int(plan.assignments["budget_cny"].sum())
    assert s.objective == plan.objective and s.terms == plan.terms
    assert s.scenario.name == "guiyang-example" and s.scenario.source == ""
    r = routes.summary
    assert r.routes == len(routes.routes) and r.served == int(routes.visits["clients"].sum())
    assert r.townships == len(routes.coverage)
    assert r.townships_met == int(routes.coverage["met"].sum())
    assert [c.county_code for c in r.counties] == sorted(set(routes.coverage["county_code"]))


def test_summaries_are_frozen(folder: tuple[Path, planner.Plan, planner.RoutePlan]) -> None:
    _, plan, routes = folder
    s = plan.summary
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.objective = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.counts.placed = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.county_quota["520102"] = 0  # type: ignore[index]
    with pytest.raises(TypeError):
        s.budget_cny.by_service_province["520000"] = 0  # type: ignore[index]
    with pytest.raises(AttributeError):
        s.notes.append("x")  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        routes.summary.reasons["no_capacity"] = "x"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        routes.summary.counties[0].served = 0  # type: ignore[misc]


def test_a_summary_lacking_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="missing key"):
        RoutingSummary.from_dict({"status": "routed"})
    with pytest.raises(ValueError, match="neither"):
        SummaryFile.from_dict({"planner_version": "0", "scenario": {}})
    assert PlanSummary.__dataclass_params__.frozen  # type: ignore[attr-defined]
