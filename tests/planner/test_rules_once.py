"""Rules said once: the bachelor share's four decimals, the language of written files, the
scope of a scenario's provinces."""

from __future__ import annotations

from fractions import Fraction

import pytest

from planner import i18n
from planner.scenario import share_fraction


@pytest.mark.parametrize(
    ("written", "fraction"),
    [
        (0.85, Fraction(17, 20)),
        ("0.8", Fraction(4, 5)),
        (1, Fraction(1)),
        (0.1234, Fraction(617, 5000)),
        (0.12345, None),  # five decimals
        ("0.333333", None),
        ("abc", None),
    ],
)
def test_share_fraction(written: float | str, fraction: Fraction | None) -> None:
    assert share_fraction(written) == fraction


def test_written_language_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """--lang, then PLANNER_LANG, then the scenario's, then the language of the moment."""
    monkeypatch.setenv(i18n.ENV, "en")
    assert i18n.choose_written("zh-CN", "en") == "zh-CN"
    assert i18n.choose_written(None, "zh-CN") == "en"
    monkeypatch.delenv(i18n.ENV)
    assert i18n.choose_written(None, "zh-CN") == "zh-CN"
    with i18n.speaking("zh-CN"):
        assert i18n.choose_written(None, None) == "zh-CN"
