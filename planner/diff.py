"""Two versions of a plan side by side: who kept his post, who moved, who is newly placed and
who is no longer placed (:func:`diff_assignments`, ``Plan.diff``, ``planner diff``)."""

from __future__ import annotations

import pandas as pd

CHANGES = ("kept", "moved", "placed", "unplaced")
"""``change`` of :func:`diff_assignments`: same post; another post; placed only after;
placed only before."""
DIFF_COLUMNS = ("applicant_id", "before_post", "after_post", "change")


def diff_assignments(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per applicant placed in either plan (``assignments`` tables: applicant_id,
    post_id): ``before_post`` and ``after_post`` ("" when unplaced) and the ``change``
    (:data:`CHANGES`), sorted by applicant id."""
    old = dict(zip(before["applicant_id"].astype(str), before["post_id"].astype(str), strict=True))
    new = dict(zip(after["applicant_id"].astype(str), after["post_id"].astype(str), strict=True))
    rows = []
    for aid in sorted(old.keys() | new.keys()):
        b, n = old.get(aid, ""), new.get(aid, "")
        both = "kept" if b == n else "moved"
        change = both if b and n else ("placed" if n else "unplaced")
        rows.append((aid, b, n, change))
    return pd.DataFrame(rows, columns=list(DIFF_COLUMNS), dtype=str)
