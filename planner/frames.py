"""The tables of a result, handed out as values: :class:`ReadOnlyFrames`.

A :class:`~planner.Plan` or :class:`~planner.RoutePlan` holds its tables (the CSVs of a plan
folder) in a :class:`ReadOnlyFrames`. Every access (``plan.assignments``,
``plan.tables["seats"]``, iteration) gives a new DataFrame: a copy-on-write shallow copy
(pandas 3), which costs one object per column, shares the data until either side writes, and
never lets a write reach the result's own frame. So ``plan.assignments.iloc[0, 0] = "X"`` or
``plan.seats["filled"] = 0`` changes that copy only: ``plan.check()`` and ``plan.write()``
see the plan as it was solved. (Frames whose numpy arrays are not writeable do not work here:
text columns are Arrow arrays without such a flag, and adding or dropping a column changes a
frame without touching its arrays.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pandas as pd


class ReadOnlyFrames(Mapping[str, pd.DataFrame]):
    """A read-only mapping of table name to DataFrame that hands out copies."""

    __slots__ = ("_frames",)

    def __init__(self, frames: Mapping[str, pd.DataFrame]) -> None:
        self._frames = {name: frame.copy(deep=False) for name, frame in frames.items()}

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self._frames[name].copy(deep=False)

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}: {len(v):,} rows" for k, v in self._frames.items())
        return f"ReadOnlyFrames({sizes})"
