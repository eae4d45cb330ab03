"""Frozen dataclasses whose numpy arrays are read-only too (:class:`Frozen`): the scenario's
tables, the problems and the solvers' results."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np


def freeze(value: Any) -> Any:
    """``value`` with its numpy arrays (also those inside tuples) marked read-only."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for item in value:
            freeze(item)
    return value


class Frozen:
    """Mixin: marks every numpy array of a frozen dataclass read-only after construction."""

    __slots__ = ()

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            freeze(getattr(self, f.name))
