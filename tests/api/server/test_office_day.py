"""An office's whole day in a real browser, as a provincial office without a shell does it.

Playwright drives Debian's Chromium against a fresh ``planner serve`` (one server for the
module, one key of the Guizhou office made by the operator): sign in, download the empty
template from the page, fill it by openpyxl as an office fills it in Excel (labels, not
codes: 本科, 教育, 是, 1年; the optional 服务站/服务点 sheets left empty), upload it with one
mistake, read the mistake named at its cell, fix it, upload again, plan, read the results page
and the who-goes-where table (search one applicant, filter one county), open the map and
download the workbook.

Run in zh-CN at 1366x768 and at 390x844 (a phone), and in en at 1366x768. On every zh-CN page
and in every zh-CN sheet it reads, no English code word of the data contract shows (except in
a column whose header says 代码); no page names a ``planner`` command. The zh-CN runs write a
screenshot of each step into ``docs/img/office/`` (256-colour PNGs), shown in
``docs/office.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.support.api import Server, cli_key, server_env
from tests.support.office_day import CODE_WORD, DOCS, SHOTS, Day
from tests.support.scenario_files import TinyCounty, tiny_counties

pytestmark = pytest.mark.slow  # about a minute: a server, three plans and maps in Chromium

OWN = "province:520000"
RUNS = {
    "zh-CN": ("zh-CN", (1366, 768), ""),
    "zh-CN-phone": ("zh-CN", (390, 844), "phone-"),
    "en": ("en", (1366, 768), None),
}
"""Run name -> (language, viewport, prefix of its screenshots; None: none taken)."""

LABELS = {
    "zh-CN": {
        "education": "教育", "health": "医疗卫生", "agriculture": "农业科技",
        "youth_center": "青年中心", "bachelor": "本科", "master": "硕士",
        "junior_college": "大专", "medicine": "医学", "agriculture_major": "农学",
        "arts": "艺术学", "education_major": "教育学", "yes": "是", "no": "否",
        "1": "1年", "2": "2年",
        "service": "服务省（计划派遣名额）", "recruit": "招募省（招募指标）",
    },
    "en": {
        "education": "education", "health": "health", "agriculture": "agriculture",
        "youth_center": "youth center", "bachelor": "bachelor", "master": "master",
        "junior_college": "junior college", "medicine": "Medicine (major)",
        "agriculture_major": "Agronomy (major)", "arts": "Arts (major)",
        "education_major": "Education (major)", "yes": "yes", "no": "no",
        "1": "1 year", "2": "2 years",
        "service": "service province (dispatch target)",
        "recruit": "recruiting province (recruitment target)",
    },
}  # fmt: skip
"""What an office picks from the template's drop-downs (written here, not read from the
catalogue)."""

WORDS = {
    "zh-CN": {
        "Sign in": "登录", "Upload": "上传方案数据", "Where": "位置", "state": "已完成",
        "summary": "汇总", "placed": "已安排", "template": "说明",
        "did you mean": "是否应为 {code}（{name}）",
    },
    "en": {
        "Sign in": "Sign in", "Upload": "Upload a scenario", "Where": "Where",
        "state": "succeeded", "summary": "Summary", "placed": "placed", "template": "Instructions",
        "did you mean": "did you mean {code} ({name})?",
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("office-day")
    env = server_env(tmp / "data")
    key = cli_key(env, OWN)
    server = Server(env, tmp / "server.log")
    try:
        yield {"url": server.url, "key": key, "counties": tiny_counties()}
    finally:
        server.stop()


def _fill(template: Path, out: Path, lang: str, name: str, a: TinyCounty, b: TinyCounty) -> Path:
    """The tiny scenario typed into the downloaded template as an office types it: labels
    from the drop-downs, codes as numbers (Excel's default), the example rows left in place,
    the optional sheets of stations and stops left empty."""
    book = openpyxl.load_workbook(template)
    sheets = book.sheetnames  # 说明/Instructions, settings, then the tables in contract order
    settings, quotas, posts, continuing, applicants, pairing, targets = (
        book[s] for s in sheets[1:8]
    )
    L = LABELS[lang]
    for row in settings.iter_rows(min_row=2):
        if row[0].value == "name":
            row[1].value = name
        elif row[0].value == "year":
            row[1].value = 2026
        elif row[0].value == "language":
            row[1].value = lang
    A, B = int(a.code), int(b.code)
    for r in ([A, 2, 1, 0, 0, 0, 0, 0, 0, L["no"], L["yes"]],
              [B, 1, 0, 0, 0, 0, 0, 0, 0, L["no"], L["yes"]]):  # fmt: skip
        quotas.append(r)
    for r in (
        ["PA1", A, A * 1000 + 1, L["education"], 2, a.lon, a.lat, "甲镇", L["yes"], None, None],
        ["PA2", A, A * 1000 + 1, L["health"], 1, a.lon, a.lat, "甲镇", L["no"], L["medicine"],
         L["bachelor"]],
        ["PA3", A, A * 1000 + 2, L["education"], 2, a.lon, a.lat, "乙镇", L["no"], None, None],
        ["PA4", A, A * 1000 + 2, L["youth_center"], 1, a.lon, a.lat, "乙镇", L["no"], None, None],
        ["PB1", B, B * 1000 + 1, L["agriculture"], 2, b.lon, b.lat, "丙镇", L["no"], None, None],
    ):  # fmt: skip
        posts.append(r)
    continuing.append(["V1", "PA3"])
    for r in (
        ["A1", 110000, L["bachelor"], L["education_major"], A, 520000, None, None, None, 110101,
         None, None, L["education"], L["1"], L["yes"]],
        ["A2", 110000, L["master"], L["medicine"], 520000, None, None, None, None, 110105,
         None, None, None, L["2"], L["yes"]],
        ["A3", 320000, L["junior_college"], L["agriculture_major"], 520000, None, None, None,
         None, None, 118.78, 32.04, None, L["1"], L["yes"]],
        ["A4", 320000, L["bachelor"], L["arts"], B, None, None, None, None, 320102, None, None,
         None, L["1"], L["yes"]],
    ):  # fmt: skip
        applicants.append(r)
    pairing.append([520000, 110000, None])
    pairing.append([520000, 320000, 3])
    targets.append([520000, L["service"], 4])
    targets.append([110000, L["recruit"], 3])
    targets.append([320000, L["recruit"], 3])
    book.save(out)
    return out


def _set(path: Path, sheet_index: int, cell: str, value: Any) -> str:
    """Type ``value`` into ``cell`` of the workbook's sheet; return ``sheet!cell``."""
    book = openpyxl.load_workbook(path)
    ws = book.worksheets[sheet_index]
    ws[cell] = value
    book.save(path)
    return f"{ws.title}!{cell}"


def _sheet_words(path: Path) -> list[str]:
    """The English code words in a workbook's cells (columns headed 代码 left out: codes stay
    there on purpose), as ``sheet!cell: text``."""
    found = []
    book = openpyxl.load_workbook(path, read_only=True)
    for ws in book.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        if not rows:
            continue
        header = [str(v or "") for v in rows[0]]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is None or (j < len(header) and "代码" in header[j] and i > 0):
                    continue
                if m := CODE_WORD.search(str(v)):
                    found.append(f"{ws.title}!{i + 1},{j + 1}: {m.group(0)} in {v!r}")
    return found


@pytest.mark.parametrize("run", list(RUNS))
def test_an_office_day(served: dict[str, Any], run: str, tmp_path: Path) -> None:
    from tests.support.browser import browser

    lang, (width, height), prefix = RUNS[run]
    words = WORDS[lang]
    url = served["url"]
    a, b = served["counties"]
    with browser() as chromium:
        context = chromium.new_context(
            locale="zh-CN",
            accept_downloads=True,
            viewport={"width": width, "height": height},
            timezone_id="Asia/Shanghai",
        )
        day = Day(context.new_page(), lang, prefix)
        page = day.page
        page.set_default_timeout(30_000)

        # sign in with the key the office was given
        page.goto(f"{url}/office")
        assert page.url.startswith(f"{url}/office/sign-in")
        if lang == "en":  # the page's switch wins over the browser's Chinese
            page.click("form.languages button[value=en]")
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("h1").inner_text() == words["Sign in"]
        day.step("sign-in")
        page.fill("#key", served["key"])
        page.click("#sign-in")
        assert page.url == f"{url}/office"
        assert page.locator("h1").first.inner_text() == words["Upload"]
        assert "贵州省" in page.locator(".who").inner_text()  # the province by its name
        day.step("start")

        # the empty template, from the page
        with page.expect_download() as download:
            page.click("#template")
        template = tmp_path / download.value.suggested_filename
        download.value.save_as(template)
        assert template.suffix == ".xlsx"
        assert openpyxl.load_workbook(template, read_only=True).sheetnames[0] == words["template"]
        if lang == "zh-CN":
            assert _sheet_words(template) == []

        # filled in with labels, with two mistakes: a seat count of -2 and a mistyped county
        # code, whose township code beside it says which county was meant
        name = {"zh-CN": "贵州2026年西部计划", "en": "Guizhou 2026"}[lang] + f" {run}"
        book = _fill(template, tmp_path / f"{name}.xlsx", lang, name, a, b)
        cell = _set(book, 3, "E5", -2)  # 岗位!E5: the seats of PA3
        county_cell = _set(book, 3, "B3", int(a.code[:4] + "99"))  # 岗位!B3: PA1's county
        page.set_input_files("#scenario-file", str(book))
        page.click("#upload")
        header = page.locator("#validation thead th").all_inner_texts()
        assert words["Where"] in header
        where = page.locator("#validation td.where").all_inner_texts()
        assert cell in where and county_cell in where, where
        messages = page.locator("#validation tbody tr").all_inner_texts()
        meant = [m for m in messages if county_cell in m]
        assert words["did you mean"].format(code=a.code, name=a.name) in meant[0], meant
        day.step("mistake", full_page=True)

        # fixed, uploaded again
        _set(book, 3, "E5", 2)
        _set(book, 3, "B3", int(a.code))
        page.set_input_files("#scenario-file", str(book))
        page.click("#upload")
        assert "/office/scenarios/" in page.url, page.locator("main").inner_text()[:2000]
        day.step("scenario")

        # a plan: the job page follows the job to its end
        page.click("#start-plan")
        assert "/office/jobs/" in page.url
        page.wait_for_selector("#plan-link", timeout=120_000)
        assert page.locator("#job-state").get_attribute("data-state") == "succeeded"
        assert page.locator("#job-state").inner_text() == words["state"]
        day.step("job")
        page.click("#plan-link")
        assert page.locator("#counties tbody tr").count() == 2
        assert page.locator("#technical").get_attribute("open") is None  # folded
        day.step("plan", full_page=True)

        # who goes where: everyone, one applicant, one county
        page.click("#placements-link")
        assert page.locator("#placements tbody tr").count() == 4
        day.step("placements", full_page=True)
        page.fill("#search", "A4")
        page.click("#search-button")
        rows = page.locator("#placements tbody tr")
        assert rows.count() == 1 and rows.first.locator("td").first.inner_text() == "A4"
        day.step("search")
        page.click("#clear")
        page.locator("#facet-county a", has_text=a.name).first.click()
        assert f"county={a.code}" in page.url
        counties = page.locator("#placements tbody tr td:nth-child(2)").all_inner_texts()
        assert counties and set(counties) == {a.name}, counties
        day.step("county", full_page=True)
        with page.expect_download() as download:
            page.click("#placements-xlsx")
        rows_book = tmp_path / "rows.xlsx"
        download.value.save_as(rows_book)
        page.click(f"a[href$='/office/plans/{page.url.split('/')[-2]}']")
        assert "/placements" not in page.url

        # the plan's workbook, named after the scenario and the day
        with page.expect_download() as download:
            page.click("#xlsx-link")
        assert download.value.suggested_filename.startswith(name)
        plan_book = tmp_path / "plan.xlsx"
        download.value.save_as(plan_book)
        assert openpyxl.load_workbook(plan_book, read_only=True).sheetnames[0] == words["summary"]

        # the map
        page.click("#map-link")
        page.wait_for_function("window.westplan && window.westplan.ready", timeout=60_000)
        counts = page.evaluate("window.westplan.counts")
        assert counts["counties"] >= 1 and counts["posts"] >= 1, counts
        day.step("map")
        context.close()

    assert all(v == [] for v in day.csp.values()), day.csp
    if prefix == "":  # docs/office.md shows the steps
        guide = (DOCS / "office.md").read_text(encoding="utf-8")
        assert all(f"img/office/{p.name}" in guide for p in SHOTS.glob("[0-9]*.png"))
    assert day.commands == {}, day.commands
    if lang == "zh-CN":
        assert day.words == {}, day.words
        assert _sheet_words(plan_book) == []
        assert _sheet_words(rows_book) == []
