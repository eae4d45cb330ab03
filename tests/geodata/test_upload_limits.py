"""Issue 22 item 3: bounded reading. A line, a cell, the rows and the columns of a table are
bounded while the file is read (memory measured here with tracemalloc, independently of the
reader), an upload past a limit answers 413 naming the file and the limit, and a report keeps
at most a few hundred issues per rule with one issue counting the rest."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

import planner
from api.core.settings import Settings
from geodata.limits import ReadLimits, reading_limits
from geodata.tables import read_table
from planner.issues import Report
from planner.schema import TABLES
from tests.support.api import running_service, zip_folder, zip_part
from tests.support.scenario_files import write_tiny


def test_a_report_keeps_a_few_hundred_issues_per_rule_and_counts_the_rest() -> None:
    report = Report()
    n = 1_048_576
    for line in range(2, n + 2):
        report.error("posts.csv", line, "seats", "bad-value", "found {x}", x=line)
    report.warning("posts.csv", 2, None, "other", "another rule")
    kept = [i for i in report.issues if i.rule == "bad-value"]
    assert 100 <= len(kept) <= 500  # a few hundred, then one summary
    listed, summary = kept[:-1], kept[-1]
    assert [i.line for i in listed] == list(range(2, len(listed) + 2))
    rest = n - len(listed)
    assert summary.line == len(listed) + 2  # where the first one left out is
    assert f"{rest:,}" in summary.text.render("en") and "more" in summary.text.render("en")
    zh = summary.text.render("zh-CN")
    assert f"{rest:,}" in zh and "more" not in zh
    assert [i.rule for i in report.issues].count("other") == 1
    assert len(report.to_json()) < 200_000


def _measure(fn: Any) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        out = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak


def test_a_long_line_stops_the_reading_without_loading_it(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "tiny")
    path = folder / "posts.csv"
    header, first = path.read_text(encoding="utf-8").splitlines()[:2]
    size = 64 * 1024**2
    with path.open("w", encoding="utf-8") as f:
        f.write(f"{header}\n{first}\n")
        f.write("P9" + "x" * size + "\n")
    report = Report()
    table, peak = _measure(lambda: read_table(path, "posts.csv", TABLES["posts"], report))
    assert table is None
    [issue] = report.errors
    assert (issue.file, issue.line, issue.rule) == ("posts.csv", 3, "too-large")
    assert f"{ReadLimits().max_line_bytes:,}" in issue.text.render("en")
    assert peak < 8 * ReadLimits().max_line_bytes  # not the 64 MB line
    assert peak < size / 4


def test_rows_columns_and_cells_are_bounded(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "tiny")
    lines = (folder / "posts.csv").read_text(encoding="utf-8").splitlines()
    limits = ReadLimits(max_rows=50, max_cell_chars=100, max_columns=20)
    with reading_limits(limits):
        many = folder / "many.csv"
        many.write_text("\n".join([lines[0], *[lines[1]] * 60]) + "\n", encoding="utf-8")
        report = Report()
        assert read_table(many, "many.csv", TABLES["posts"], report) is None
        [issue] = report.errors
        assert issue.rule == "too-large" and "50" in issue.text.render("zh-CN")
        wide = folder / "wide.csv"
        extra = ",".join(f"c{j}" for j in range(30))
        wide.write_text(f"{lines[0]},{extra}\n{lines[1]}{',' * 30}\n", encoding="utf-8")
        report = Report()
        assert read_table(wide, "wide.csv", TABLES["posts"], report) is None
        assert [i.rule for i in report.errors] == ["too-large"]
        long = folder / "long.csv"
        cells = lines[1].split(",")
        cells[-4] = "镇" * 101  # township_name
        long.write_text(f"{lines[0]}\n{','.join(cells)}\n{lines[2]}\n", encoding="utf-8")
        report = Report()
        table = read_table(long, "long.csv", TABLES["posts"], report)
        assert table is not None and table.bad.tolist() == [True, False]
        [issue] = report.errors
        assert (issue.line, issue.column, issue.rule) == (2, "township_name", "too-long")
        assert table.columns["township_name"].dtype.itemsize <= 4 * 100  # not kept


def _workbook(path: Path, rows: int, columns: int) -> Path:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("posts")
    names = ["post_id", "county_code", "township_code", "category", "seats"]
    sheet.write_row(0, 0, [*names, *(f"x{j}" for j in range(columns - len(names)))])
    for i in range(1, rows + 1):
        sheet.write_row(i, 0, [f"P{i}", "520102", "520102001", "education", 1])
    book.close()
    return path


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("limits")
    settings = Settings(data_dir=tmp / "data", max_rows=1_000, max_line_bytes=4096, max_columns=40)
    with running_service(settings) as service:
        yield service


def test_uploads_past_a_limit_answer_413_naming_file_and_limit(svc: Any, tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "tiny")
    with (folder / "applicants.csv").open("a", encoding="utf-8") as f:
        f.write("A9," + "9" * 10_000 + "\n")
    h = {**svc.headers("national"), "Accept-Language": "zh-CN"}
    r = svc.client.post("/api/v1/scenarios", files=zip_part(zip_folder(folder)), headers=h)
    assert r.status_code == 413, r.text
    detail = r.json()["detail"]
    assert "applicants.csv" in detail and "4,096" in detail and "PLANNER_MAX_LINE_BYTES" in detail
    ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for rows, columns, limit in ((1_500, 5, "1,000"), (10, 60, "40")):
        book = _workbook(tmp_path / f"b{rows}.xlsx", rows, columns)
        files = {"file": (book.name, book.read_bytes(), ctype)}
        r = svc.client.post("/api/v1/scenarios", files=files, headers=h)
        assert r.status_code == 413, r.text
        assert "posts" in r.json()["detail"] and limit in r.json()["detail"]
        assert len(r.content) < 100_000


def test_a_valid_scenario_still_reads(tmp_path: Path) -> None:
    planner.read_scenario(write_tiny(tmp_path / "tiny")).report.raise_for_errors()
