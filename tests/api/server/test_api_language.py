"""The HTTP service in zh-CN and en: JSON messages follow ``Accept-Language`` (machine fields
never change), stored validation reports are read in each reader's language (kept as
templates; migration 0005 converts the rows stored before), and a plan's files are written
in the language of the person who started it."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import sqlalchemy as sa
from alembic import command

from geodata.scenario import load_scenario
from planner import i18n
from planner.i18n import Text
from planner.issues import Report
from tests.support.api import (
    Service,
    TinyService,
    alembic_config,
    database_url,
    zip_folder,
    zip_part,
)
from tests.support.scenario_files import write_tiny
from tests.support.zoo import CASES, make_case

CJK = re.compile(r"[\u4e00-\u9fff]")
MACHINE = ("file", "line", "column", "severity", "rule", "cell")
"""The fields of an issue that are the same in every language."""


def _case(name: str, root: Path) -> Path:
    return make_case(next(c for c in CASES if c.name == name), root)


def _in(svc: Service, lang: str | None, role: str = "national") -> dict[str, str]:
    return svc.headers(role) | ({"Accept-Language": lang} if lang else {})


def test_json_validation_messages_follow_accept_language(fresh_service: TinyService) -> None:
    svc: Service = fresh_service.svc
    broken = _case("unknown-county", fresh_service.tmp / "broken")
    answers = {}
    for lang, header in (("zh-CN", "zh-CN,zh;q=0.9,en;q=0.8"), ("en", "en-US,en;q=0.9")):
        r = svc.client.post(
            "/api/v1/scenarios", files=zip_part(zip_folder(broken)), headers=_in(svc, header)
        )
        assert r.status_code == 422
        assert r.headers["content-language"] == lang
        answers[lang] = r.json()
    zh, en = answers["zh-CN"], answers["en"]
    # the machine fields are the same in both languages ...
    assert [{k: i.get(k) for k in MACHINE} for i in zh["validation"]["issues"]] == [
        {k: i.get(k) for k in MACHINE} for i in en["validation"]["issues"]
    ]
    assert {k: zh["validation"][k] for k in ("ok", "errors", "warnings")} == {
        k: en["validation"][k] for k in ("ok", "errors", "warnings")
    }
    # ... the messages are each in its language, and equal the library's report read in it
    report = load_scenario(broken).report
    for lang, body in answers.items():
        with i18n.speaking(lang):
            assert body["validation"] == report.to_dict()
    (hit,) = [i for i in zh["validation"]["issues"] if i["rule"] == "unknown-county"]
    assert CJK.search(hit["message"]) and "529999" in hit["message"]
    (hit_en,) = [i for i in en["validation"]["issues"] if i["rule"] == "unknown-county"]
    assert not CJK.search(hit_en["message"]) and "529999" in hit_en["message"]
    assert zh["detail"].startswith("方案数据有 3 个错误")  # the county's name is data: 云岩区
    assert en["detail"].startswith("the scenario has 3 error(s)")
    # no Accept-Language: the server's default (PLANNER_LANG=en in the tests)
    r = svc.client.post(
        "/api/v1/scenarios", files=zip_part(zip_folder(broken)), headers=_in(svc, None)
    )
    assert r.json() == en and r.headers["content-language"] == "en"


def test_a_stored_report_is_read_in_each_readers_language(fresh_service: TinyService) -> None:
    """A scenario kept with a warning: the same stored report, read in zh-CN and in en."""
    svc: Service = fresh_service.svc
    warned = _case("gbk-text", fresh_service.tmp / "warned")
    r = svc.client.post(
        "/api/v1/scenarios", files=zip_part(zip_folder(warned)), headers=_in(svc, "zh-CN")
    )
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    read = {
        lang: svc.client.get(f"/api/v1/scenarios/{sid}", headers=_in(svc, lang)).json()
        for lang in ("zh-CN", "en")
    }
    zh, en = (read[lang]["validation"]["issues"] for lang in ("zh-CN", "en"))
    (zh_warning,) = [i for i in zh if i["rule"] == "encoding"]
    (en_warning,) = [i for i in en if i["rule"] == "encoding"]
    assert {k: zh_warning.get(k) for k in MACHINE} == {k: en_warning.get(k) for k in MACHINE}
    assert CJK.search(zh_warning["message"]) and "GBK" in zh_warning["message"].upper()
    assert not CJK.search(en_warning["message"])
    assert r.json()["validation"]["issues"] == zh  # the upload answered in its language too


def test_problems_and_refusals_speak_the_request_language(fresh_service: TinyService) -> None:
    svc: Service = fresh_service.svc
    for lang, words in (("zh-CN", "没有方案数据"), ("en", "no scenario")):
        r = svc.client.get("/api/v1/scenarios/nothere", headers=_in(svc, lang))
        assert r.status_code == 404 and r.json()["detail"].startswith(words)
    r = svc.client.get("/api/v1/scenarios", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 401 and CJK.search(r.json()["detail"])
    # the body limit answers before the app, in the request's language too
    r = svc.client.post(
        "/api/v1/scenarios/x/plans",
        content=b"{" + b" " * (2 * 1024**2) + b"}",
        headers=_in(svc, "zh-CN") | {"Content-Type": "application/json"},
    )
    assert r.status_code == 413 and "PLANNER_MAX_BODY_BYTES" in r.json()["detail"]
    assert CJK.search(r.json()["detail"])


def _first_sheet(svc: Service, plan_id: str) -> str:
    r = svc.client.get(f"/api/v1/plans/{plan_id}/xlsx", headers=svc.headers("national"))
    assert r.status_code == 200
    return str(openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).sheetnames[0])


def test_a_plans_files_are_in_the_language_of_who_started_it(fresh_service: TinyService) -> None:
    svc: Service = fresh_service.svc
    tiny = write_tiny(fresh_service.tmp / "tiny")
    sid = svc.client.post(
        "/api/v1/scenarios", files=zip_part(zip_folder(tiny)), headers=_in(svc, None)
    ).json()["id"]
    sheets = {}
    for lang in ("zh-CN", None):
        jid = svc.client.post(f"/api/v1/scenarios/{sid}/plans", headers=_in(svc, lang)).json()
        job = svc.wait(jid["job_id"])
        assert job["state"] == "succeeded", job
        sheets[lang] = _first_sheet(svc, job["plan_id"])
    assert sheets["zh-CN"] == "汇总"
    assert sheets[None] == "Summary"  # the server's default, PLANNER_LANG=en here


# --- the stored form of a report ---------------------------------------------------------------


def _round_trip(report: Report) -> Report:
    return Report.from_data(json.loads(json.dumps(report.to_data())))


def test_every_zoo_report_reads_the_same_after_storage(tmp_path: Path) -> None:
    """Each broken input's report, stored as JSON and read back, renders exactly as the
    original in both languages (nested texts, numbers with formats, quoted values)."""
    compared = 0
    for case in CASES:
        report = load_scenario(make_case(case, tmp_path / case.name)).report
        stored = _round_trip(report)
        for lang in i18n.LANGUAGES:
            with i18n.speaking(lang):
                assert stored.to_dict() == report.to_dict(), (case.name, lang)
        compared += len(report.issues)
    assert compared >= len(CASES)


def test_fields_of_any_kind_survive_storage() -> None:
    inner = Text("line {line}", {"line": np.int64(7)})
    text = Text(
        "{a!r} {b} {c:,} {d:.1f} {e} {f!r} {g}",
        {
            "a": "quoted",
            "b": inner,
            "c": np.int64(1234567),
            "d": np.float64(2.25),
            "e": Path("posts.csv"),
            "f": ("x", 1),
            "g": ["a", 2, None],
        },
    )
    stored = Text.from_data(json.loads(json.dumps(text.to_data())))
    for lang in i18n.LANGUAGES:
        assert stored.render(lang) == text.render(lang)
    assert text.render("en").startswith("'quoted' line 7 1,234,567 2.2 posts.csv ('x', 1)")


# --- migration 0005 ----------------------------------------------------------------------------

OLD_REPORT = {
    "ok": True,
    "errors": 0,
    "warnings": 1,
    "issues": [
        {
            "file": "岗位",
            "line": 4,
            "column": "seats",
            "severity": "warning",
            "rule": "bad-value",
            "message": "found '{x}'; expected a whole number",
            "cell": "岗位!E4",
        }
    ],
}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migration_0005_keeps_stored_reports_readable(tmp_path: Path, backend: str) -> None:
    with database_url(backend, tmp_path) as url:
        _migrate_0005(url)


def _migrate_0005(url: str) -> None:
    cfg = alembic_config(url.replace("%", "%%"))
    command.upgrade(cfg, "0004")
    engine = sa.create_engine(url)
    scenarios = sa.table(
        "scenarios",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("year", sa.Integer),
        sa.column("synthetic", sa.Boolean),
        sa.column("filename", sa.String),
        sa.column("provinces", sa.String),
        sa.column("tables", sa.JSON),
        sa.column("validation", sa.JSON),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    with engine.begin() as conn:
        conn.execute(
            scenarios.insert().values(
                id="s1",
                name="old",
                year=2006,
                synthetic=False,
                filename="old.xlsx",
                provinces="520000",
                tables={"posts": 3},
                validation=OLD_REPORT,
                created_at=dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC),
            )
        )
    stored_now = sa.select(scenarios.c.validation)
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        stored = conn.execute(stored_now).scalar_one()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("jobs")}
        tables = set(sa.inspect(conn).get_table_names())
    assert "language" in columns and "web_sessions" in tables
    assert all("message" not in i and "text" in i for i in stored["issues"])
    report = Report.from_data(stored)
    for lang in i18n.LANGUAGES:  # the English message, shown as it was, in every language
        with i18n.speaking(lang):
            assert report.to_dict() == OLD_REPORT
    command.downgrade(cfg, "0004")
    with engine.connect() as conn:
        assert conn.execute(stored_now).scalar_one() == OLD_REPORT
        assert "web_sessions" not in sa.inspect(conn).get_table_names()
    engine.dispose()
