"""Upload memory benchmark: the server's peak memory against the size of a hostile upload,
before and after the bounded readers (issue 22 item 3), in one run.

Run: ``.venv/bin/python benchmarks/upload_memory.py [--base d028431] [--quick]``

The code at ``--base`` is checked out once with ``git worktree add`` (into a temporary folder,
removed at the end). For each version, each case and each size, a fresh child process imports
that version (``PYTHONPATH``), builds the app in process (``create_app``, migrations, a
national key, no job runner), uploads the file through ``POST /api/v1/scenarios`` and reports
its resident memory before the upload (``VmRSS``, after a valid warm-up upload, with the
high-water mark reset through ``/proc/self/clear_refs``) and its high-water mark after it
(``VmHWM``, Linux), the answer's status, size and time. The client runs in the same process,
so the upload's bytes (read, then encoded as multipart) count in the growth too: about twice
the upload's size. The cases:

- ``long line``: the tiny scenario as a zip whose ``applicants.csv`` ends with one line of N MB
  (a few kB once deflated);
- ``many rows``: an ``.xlsx`` whose ``posts`` sheet has N rows (every one of them a problem:
  its county is unknown);
- ``wide sheet``: an ``.xlsx`` whose ``posts`` sheet has N columns and 20 rows.

``growth`` is the high-water mark minus the memory before the upload; ``x size`` divides it
by the size of the data in the upload (unzipped).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, sys, time
from pathlib import Path
from fastapi.testclient import TestClient
from api.core.api_keys import create_key
from api.server.app import create_app
from api.core.settings import Settings

def status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0

path, ctype, data, warm = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
app = create_app(Settings(data_dir=data), run_jobs=False)
with TestClient(app) as client:
    with app.state.sessions() as session:
        key = create_key(session, "national", name="bench")[1]
    warm_up = client.post(  # a valid scenario first: geography and code loaded, not measured
        "/api/v1/scenarios",
        files={"file": (warm.name, warm.read_bytes(), "application/zip")},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert warm_up.status_code == 201, warm_up.text
    body = path.read_bytes()
    Path("/proc/self/clear_refs").write_text("5")  # the high-water mark starts again here
    before = status("VmRSS")
    start = time.perf_counter()
    r = client.post(
        "/api/v1/scenarios",
        files={"file": (path.name, body, ctype)},
        headers={"Authorization": f"Bearer {key}"},
    )
    seconds = time.perf_counter() - start
    del body
    print(json.dumps({"status": r.status_code, "bytes": len(r.content), "seconds": seconds,
                      "before": before, "peak": status("VmHWM")}))
"""

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MB = 1024**2


def long_line(folder: Path, megabytes: int) -> tuple[Path, str, int]:
    """The tiny scenario zipped, with one line of ``megabytes`` MB at the end of
    applicants.csv."""
    from tests.support.scenario_files import write_tiny

    scenario = write_tiny(folder / f"tiny{megabytes}")
    digits = random.Random(0)  # random digits: the zip's ratio stays below a zip bomb's
    with (scenario / "applicants.csv").open("a", encoding="utf-8") as f:
        f.write("A9,")
        for _ in range(megabytes):
            f.write("".join(digits.choices("0123456789", k=MB)))
        f.write("\n")
    path = folder / f"long{megabytes}.zip"
    return path, "application/zip", zip_folder(scenario, path)


def zip_folder(scenario: Path, path: Path) -> int:
    """Zip a scenario folder into ``path``; its unzipped size."""
    size = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(scenario.iterdir()):
            z.write(p, f"tiny/{p.name}")
            size += p.stat().st_size
    return size


def workbook(folder: Path, rows: int, columns: int, name: str) -> tuple[Path, str, int]:
    """An .xlsx with a ``posts`` sheet of ``rows`` rows and ``columns`` columns."""
    import xlsxwriter

    path = folder / f"{name}.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("posts")
    head = ["post_id", "county_code", "township_code", "category", "seats"]
    head += [f"x{j}" for j in range(columns - len(head))]
    sheet.write_row(0, 0, head)
    for i in range(1, rows + 1):
        sheet.write_row(i, 0, [f"P{i}", "999999", "999999001", "education", 1])
        for j in range(5, columns):
            sheet.write_number(i, j, j)
    book.close()
    with zipfile.ZipFile(path) as z:
        size = sum(i.file_size for i in z.infolist())
    return path, XLSX, size


def run(version: Path, upload: Path, ctype: str, tmp: Path) -> dict[str, float]:
    data = Path(tempfile.mkdtemp(dir=tmp))
    env = {**os.environ, "PYTHONPATH": str(version), "PLANNER_LANG": "en"}
    warm = tmp / "warm.zip"
    if not warm.is_file():
        from tests.support.scenario_files import write_tiny

        zip_folder(write_tiny(tmp / "warm"), warm)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(upload), ctype, str(data), str(warm)],
        env=env,
        cwd=version,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="d028431", help="The code before (a git revision).")
    parser.add_argument("--quick", action="store_true", help="One size per case.")
    args = parser.parse_args()
    console = Console(width=220)
    with tempfile.TemporaryDirectory(prefix="upload-memory-") as name:
        tmp = Path(name)
        before = tmp / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before), args.base],
            check=True,
            capture_output=True,
        )
        try:
            sizes = {
                "long line (MB)": [16] if args.quick else [16, 64, 128],
                "many rows": [50_000] if args.quick else [50_000, 200_000],
                "wide sheet (columns)": [2_000] if args.quick else [2_000, 16_000],
            }
            table = Table(title=f"Peak server memory per upload: {args.base} vs this checkout")
            for col in (
                "case",
                "N",
                "upload MB",
                "data MB",
                "before: status",
                "before: growth MB",
                "before: s",
                "after: status",
                "after: growth MB",
                "after: s",
                "after: x size",
                "before/after",
            ):
                table.add_column(col, justify="left" if col == "case" else "right")
            for case, ns in sizes.items():
                for n in ns:
                    if case.startswith("long"):
                        upload, ctype, size = long_line(tmp, n)
                    elif case.startswith("many"):
                        upload, ctype, size = workbook(tmp, n, 5, f"rows{n}")
                    else:
                        upload, ctype, size = workbook(tmp, 20, n, f"wide{n}")
                    got = {v: run(p, upload, ctype, tmp) for v, p in (("b", before), ("a", ROOT))}
                    growth = {v: (r["peak"] - r["before"]) / MB for v, r in got.items()}
                    table.add_row(
                        case,
                        f"{n:,}",
                        f"{upload.stat().st_size / MB:.2f}",
                        f"{size / MB:.1f}",
                        str(got["b"]["status"]),
                        f"{growth['b']:.0f}",
                        f"{got['b']['seconds']:.1f}",
                        str(got["a"]["status"]),
                        f"{growth['a']:.0f}",
                        f"{got['a']['seconds']:.1f}",
                        f"{growth['a'] * MB / size:.2f}",
                        f"{growth['b'] / max(growth['a'], 1):.1f}x",
                    )
                    upload.unlink()
            console.print(table)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)],
                check=False,
                capture_output=True,
            )


if __name__ == "__main__":
    main()
