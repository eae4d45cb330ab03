"""Small integer fields packed into one int64 key, checked against collisions and overflow.

The compact network (:mod:`planner.allocation.compact`) numbers its hubs and segments by
``np.unique`` over keys such as (tier pattern, tier class, major, degree). A key is the
mixed-radix number ``((f0 * r1 + f1) * r2 + f2) * ...``: every field after the first lies in
``0 .. r - 1`` for its radix ``r``, so the keys sort like the tuples of their fields and two
different tuples never share a key. :class:`KeyPacking` names the fields, checks every field
against its radix and the whole key against int64 when it packs, and unpacks them again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

INT64_MAX = int(np.iinfo(np.int64).max)


def field_radix(what: str, n_values: int, bits: int) -> int:
    """``2 ** bits``, the radix of a key field with ``n_values`` values ``0 .. n_values - 1``.

    Raises
    ------
    ValueError
        When the values do not fit in ``bits`` bits (keys would collide).
    """
    if n_values > 1 << bits:
        raise ValueError(
            f"{n_values} {what} do not fit in a key field of {bits} bits (at most {1 << bits}); "
            "widen the field in planner/allocation/compact.py"
        )
    return 1 << bits


@dataclass(frozen=True, slots=True)
class KeyPacking:
    """Named integer fields packed into one int64 key, the first field highest.

    ``radices[i]`` is the radix of field ``i + 1`` (the first field is bounded only by the
    int64 range)."""

    fields: tuple[str, ...]
    radices: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.radices) != len(self.fields) - 1 or any(r < 1 for r in self.radices):
            raise ValueError(
                f"fields {self.fields} need {len(self.fields) - 1} radices >= 1; got {self.radices}"
            )

    def pack(self, *values: np.ndarray) -> np.ndarray:
        """The key of each element of the field arrays ``values`` (in the order of
        :attr:`fields`).

        Raises
        ------
        ValueError
            When a field is negative or not below its radix.
        OverflowError
            When a key could pass the int64 range.
        """
        if len(values) != len(self.fields):
            raise ValueError(f"{len(values)} arrays for the fields {self.fields}")
        arrays = [np.asarray(v, dtype=np.int64) for v in values]
        for name, radix, arr in zip(self.fields, (INT64_MAX, *self.radices), arrays, strict=True):
            if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= radix):
                raise ValueError(
                    f"key field {name!r}: values {int(arr.min())} .. {int(arr.max())}; "
                    f"expected 0 .. {radix - 1}"
                )
        head = int(arrays[0].max()) if arrays[0].size else 0
        if (head + 1) * math.prod(self.radices) - 1 > INT64_MAX:
            raise OverflowError(
                f"key {self.fields}: field {self.fields[0]!r} up to {head} with radices "
                f"{self.radices} passes the int64 range"
            )
        key = arrays[0]
        for radix, arr in zip(self.radices, arrays[1:], strict=True):
            key = key * radix + arr
        return key

    def unpack(self, keys: np.ndarray) -> tuple[np.ndarray, ...]:
        """The field arrays of ``keys`` (the inverse of :meth:`pack`)."""
        rest = np.asarray(keys, dtype=np.int64)
        low: list[np.ndarray] = []
        for radix in reversed(self.radices):
            low.append(rest % radix)
            rest = rest // radix
        return (rest, *reversed(low))
