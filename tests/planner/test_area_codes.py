"""The area-code hierarchy of planner.geo, on hand-picked GB/T 2260 codes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.geo import is_province_code, prefecture_of, province_of, provinces_of


def test_province_and_prefecture_of_a_county() -> None:
    assert province_of("431202") == "430000"  # 鹤城区, Huaihua, Hunan
    assert prefecture_of("431202") == "431200"
    assert province_of("500101") == "500000"  # Chongqing's prefecture is not 500100
    assert province_of("430000") == "430000"


def test_provinces_of_arrays_and_columns() -> None:
    codes = ["431202", "620102", "650000"]
    want = ["430000", "620000", "650000"]
    assert provinces_of(np.asarray(codes)).tolist() == want
    assert provinces_of(np.asarray(codes, dtype=object)).tolist() == want
    assert provinces_of(pd.Series(codes, index=[7, 3, 5])).tolist() == want
    assert provinces_of(np.asarray([], dtype=str)).tolist() == []


def test_province_codes() -> None:
    assert is_province_code("520000")
    assert not is_province_code("520100") and not is_province_code("520102")
