"""Roads over HTTP: the administrator's road networks (``PLANNER_ROADS_DIR``) listed by
``GET /api/v1/roads``, named by a plan job's ``roads`` option and chosen on the office's
scenario page; names that are not networks refused (docs/routing.md "Roads")."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.core.settings import Settings
from geodata.roads.synthetic import build_synthetic_roads
from geodata.scenario import load_scenario
from tests.support.api import (
    Browser,
    Service,
    running_service,
    write_crewed_tiny,
    zip_folder,
    zip_part,
)

STAMP = "2026-11-30T21:14:02Z"
"""The extract timestamp written into the test network's manifest (as a dated extract has)."""


@dataclass(frozen=True)
class TinyScenario:
    """A running service, its data folder's parent, the tiny scenario's folder and its id."""

    svc: Service
    tmp: Path
    tiny: Path
    scenario_id: str


@pytest.fixture(scope="module")
def tiny_with_roads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyScenario]:
    """A service whose PLANNER_ROADS_DIR holds a synthetic network of the crewed tiny
    scenario's counties (plus a folder and a file that are not networks), the scenario
    uploaded."""
    tmp = tmp_path_factory.mktemp("api-roads")
    tiny = write_crewed_tiny(tmp / "tiny")
    roads_dir = tmp / "roads"
    folder = roads_dir / "tiny-roads"
    build_synthetic_roads(load_scenario(tiny).data, folder, seed=2)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["extract"]["timestamp"] = STAMP
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (roads_dir / "notes").mkdir()  # no manifest: not a network
    (roads_dir / "README.txt").write_text("graphs built by the administrator")
    settings = Settings(
        data_dir=tmp / "data",
        database_url=f"sqlite:///{tmp / 'planner.db'}",
        poll_seconds=0.1,
        job_time_limit=20,
        roads_dir=roads_dir,
    )
    with running_service(settings) as svc:
        h = svc.headers("national")
        r = svc.client.post("/api/v1/scenarios", files=zip_part(zip_folder(tiny)), headers=h)
        assert r.status_code == 201, r.text
        yield TinyScenario(svc, tmp, tiny, r.json()["id"])


def _plan(svc: Service, scenario_id: str, body: dict[str, Any] | None) -> Any:
    return svc.client.post(
        f"/api/v1/scenarios/{scenario_id}/plans", json=body, headers=svc.headers("national")
    )


def test_the_networks_are_listed_with_their_extract_timestamp(
    tiny_with_roads: TinyScenario,
) -> None:
    svc: Service = tiny_with_roads.svc
    r = svc.client.get("/api/v1/roads", headers=svc.headers("province:520000"))
    assert r.status_code == 200, r.text
    assert r.json() == [
        {
            "name": "tiny-roads",
            "extract": "tiny-roads.synthetic.osm",
            "extract_timestamp": STAMP,
            "synthetic": True,
            "edges": json.loads(
                (svc.settings.roads_dir / "tiny-roads" / "manifest.json").read_text()  # type: ignore[operator]
            )["counts"]["edges"],
            "elevation": False,
        }
    ]
    assert svc.client.get("/api/v1/roads").status_code == 401
    assert svc.client.get("/api/v1/roads", headers=svc.headers("viewer")).status_code == 403


@pytest.mark.slow  # a routing job (a minute on the shared machine)
def test_a_routing_job_on_a_named_network_says_roads(tiny_with_roads: TinyScenario) -> None:
    svc: Service = tiny_with_roads.svc
    r = _plan(svc, tiny_with_roads.scenario_id, {"roads": "tiny-roads", "time_limit": 5})
    assert r.status_code == 202, r.text
    job = svc.wait(r.json()["job_id"], timeout=180)
    assert job["state"] == "succeeded", job
    h = svc.headers("national")
    summary = svc.client.get(f"/api/v1/plans/{job['plan_id']}/summary", headers=h).json()
    model = summary["routing"]["travel_model"]
    assert model["kind"] == "roads"
    assert model["synthetic"] is True
    assert model["roads"] == "tiny-roads"  # the name: no server path in an answer
    assert model["extract"]["timestamp"] == STAMP
    routes = svc.client.get(f"/api/v1/plans/{job['plan_id']}/routes", headers=h).json()
    assert routes["features"], "the crewed tiny scenario has routes"
    assert all(f["properties"]["along"] == "roads" for f in routes["features"])
    # without the option the same scenario routes on the great-circle model
    plain = svc.wait(
        _plan(svc, tiny_with_roads.scenario_id, {"time_limit": 5}).json()["job_id"], timeout=180
    )
    assert plain["state"] == "succeeded", plain
    summary = svc.client.get(f"/api/v1/plans/{plain['plan_id']}/summary", headers=h).json()
    assert summary["routing"]["travel_model"]["kind"] == "great_circle"


@pytest.mark.parametrize(
    "name",
    [
        "elsewhere",
        "../roads/tiny-roads",
        "/etc",
        "tiny-roads/../tiny-roads",
        "notes",
        "README.txt",
        "..",
    ],
)
def test_names_that_are_not_networks_are_refused(tiny_with_roads: TinyScenario, name: str) -> None:
    svc: Service = tiny_with_roads.svc
    r = _plan(svc, tiny_with_roads.scenario_id, {"roads": name})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert repr(name) in detail and "tiny-roads" in detail
    assert str(svc.settings.roads_dir) not in r.text


def test_without_a_roads_dir_every_name_is_refused(tiny_with_roads: TinyScenario) -> None:
    tmp: Path = tiny_with_roads.tmp
    settings = Settings(
        data_dir=tmp / "data2", database_url=f"sqlite:///{tmp / 'p2.db'}", poll_seconds=0.1
    )
    with running_service(settings) as svc:
        h = svc.headers("national")
        r = svc.client.post(
            "/api/v1/scenarios", files=zip_part(zip_folder(tiny_with_roads.tiny)), headers=h
        )
        assert svc.client.get("/api/v1/roads", headers=h).json() == []
        refused = _plan(svc, r.json()["id"], {"roads": "tiny-roads"})
        assert refused.status_code == 422
        assert "PLANNER_ROADS_DIR" in refused.json()["detail"]
        zh = svc.client.post(
            f"/api/v1/scenarios/{r.json()['id']}/plans",
            json={"roads": "x"},
            headers={**h, "Accept-Language": "zh-CN"},
        )
        assert zh.status_code == 422 and "本服务没有路网 'x'" in zh.json()["detail"]


def test_an_upload_naming_a_graph_outside_its_files_is_refused_alike(
    tiny_with_roads: TinyScenario, tmp_path: Path
) -> None:
    """An uploaded scenario.toml whose [routing] roads leaves the upload is refused before
    anything reads the path: the administrator's real network and a path that does not exist
    get the same answer, naming the value (no answer tells whether a server path holds a
    graph), and nothing is stored."""
    svc: Service = tiny_with_roads.svc
    h = svc.headers("national")
    real = svc.settings.roads_dir / "tiny-roads"  # type: ignore[operator]
    answers = []
    for target in (real, tmp_path / "no-such-graph"):
        folder = tmp_path / f"sly-{target.name}"
        shutil.copytree(tiny_with_roads.tiny, folder)
        toml = folder / "scenario.toml"
        toml.write_text(
            toml.read_text(encoding="utf-8") + f'\n[routing]\nroads = "{target}"\n',
            encoding="utf-8",
        )
        before = svc.client.get("/api/v1/scenarios", headers=h).json()
        r = svc.client.post("/api/v1/scenarios", files=zip_part(zip_folder(folder)), headers=h)
        assert r.status_code == 422, r.text
        assert "[routing] roads" in r.json()["detail"] and "outside its own files" in r.text
        assert svc.client.get("/api/v1/scenarios", headers=h).json() == before
        answers.append(r.json()["detail"].replace(str(target), "PATH"))
    assert answers[0] == answers[1]


@pytest.mark.slow  # a routing job (a minute on the shared machine)
def test_the_office_page_offers_the_networks_in_chinese(tiny_with_roads: TinyScenario) -> None:
    svc: Service = tiny_with_roads.svc
    browser = Browser.signed_in_as(svc, "national", language="zh-CN")
    page = browser.client.get(f"/office/scenarios/{tiny_with_roads.scenario_id}")
    assert page.status_code == 200
    assert "排线所用路网" in page.text
    assert '<option value="tiny-roads">tiny-roads' in page.text
    assert f"{STAMP} 的数据" in page.text and "合成" in page.text
    assert "不用路网：直线距离乘绕行系数" in page.text
    where = f"/office/scenarios/{tiny_with_roads.scenario_id}/plans"
    bad = browser.post(where, {"time_limit": "20", "roads": "../etc"})
    assert bad.status_code == 422 and "本服务没有路网" in bad.text
    r = browser.post(where, {"time_limit": "5", "roads": "tiny-roads"})
    assert r.status_code == 303, r.text[-500:]
    job_id = r.headers["location"].rsplit("/", 1)[-1]
    job = svc.wait(job_id, timeout=180)
    assert job["state"] == "succeeded", job
    h = svc.headers("national")
    summary = svc.client.get(f"/api/v1/plans/{job['plan_id']}/summary", headers=h).json()
    assert summary["routing"]["travel_model"]["kind"] == "roads"
