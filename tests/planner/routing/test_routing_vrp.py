"""Benchmark mode: readers against the best-known solutions, both engines, the .sol format."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from planner.routing.vrp import (
    VrpFormatError,
    check_solution,
    read_instance,
    read_solution,
    route_cost,
    solve_vrp,
    write_solution,
)
from tests.support.paths import REPO

VRP_DIR = REPO / "benchmarks" / "instances" / "vrp"

BKS = {row["instance"]: row for row in csv.DictReader((VRP_DIR / "BKS.csv").open(encoding="utf-8"))}


def instance_path(name: str) -> Path:
    return next(p for p in (VRP_DIR / f"{name}.vrp", VRP_DIR / f"{name}.txt") if p.is_file())


@pytest.mark.parametrize("name", sorted(BKS))
def test_best_known_solution_costs_its_stated_cost(name: str) -> None:
    inst = read_instance(instance_path(name))
    routes, stated = read_solution(VRP_DIR / f"{name}.sol")
    assert inst.kind == BKS[name]["kind"]
    assert inst.n_customers == int(BKS[name]["n_customers"])
    assert check_solution(inst, routes) == []
    assert route_cost(inst, routes) == pytest.approx(stated, abs=1e-9)
    assert route_cost(inst, routes) == pytest.approx(float(BKS[name]["bks_cost"]), abs=1e-9)


def test_checker_catches_broken_solutions() -> None:
    inst = read_instance(instance_path("C101"))
    routes, _ = read_solution(VRP_DIR / "C101.sol")
    reversed_first = [routes[0][::-1], *routes[1:]]
    assert any("after its due" in m for m in check_solution(inst, reversed_first))
    assert check_solution(inst, routes[1:])  # customers missing
    merged = [routes[0] + routes[1], *routes[2:]]
    assert any("load" in m or "due" in m for m in check_solution(inst, merged))


@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_engines_solve_a_small_cvrp(engine: str, tmp_path: Path) -> None:
    inst = read_instance(instance_path("A-n32-k5"))
    sol = solve_vrp(inst, time_limit=1.0, engine=engine)
    assert sol.feasible and len(sol.routes) <= 5
    assert sol.cost >= 784 and sol.cost == route_cost(inst, sol.routes)
    write_solution(tmp_path / "a.sol", sol.routes, sol.cost)
    routes, cost = read_solution(tmp_path / "a.sol")
    assert routes == sol.routes and cost == sol.cost


def test_parallel_searches_return_the_best_feasible_one() -> None:
    inst = read_instance(instance_path("A-n32-k5"))
    t0 = time.perf_counter()
    sol = solve_vrp(inst, time_limit=2.0, engine="pyvrp", workers=2)
    assert time.perf_counter() - t0 < 2.0 + 10.0  # one wall-clock end for both searches
    assert sol.feasible and check_solution(inst, sol.routes) == []
    assert sol.cost >= 784 and sol.cost == route_cost(inst, sol.routes)


def test_pyvrp_engine_solves_a_solomon_instance_in_the_dimacs_convention() -> None:
    inst = read_instance(instance_path("R101"))
    sol = solve_vrp(inst, time_limit=2.0, engine="pyvrp")
    assert sol.feasible and check_solution(inst, sol.routes) == []
    assert sol.cost >= 1637.7 - 1e-9  # R101's best-known solution is a lower bound here


def test_reader_names_the_file_on_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "broken.vrp"
    bad.write_text("NAME : x\nTYPE : CVRP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\n")
    with pytest.raises(VrpFormatError, match=r"broken\.vrp"):
        read_instance(bad)
    with pytest.raises(VrpFormatError, match="no such file"):
        read_instance(tmp_path / "missing.vrp")
