"""tests/deps.py says what happens when a system package is missing and cannot be installed."""

from __future__ import annotations

import pytest

from tests.support import deps


@pytest.mark.parametrize(
    ("ci", "code", "said"), [("true", 1, "this run fails"), ("", 0, "skipped")]
)
def test_a_missing_package_is_said_as_what_follows(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    ci: str,
    code: int,
    said: str,
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(deps, "missing", lambda: ["chromium"])
    monkeypatch.setattr(deps, "_as_root", lambda: None)
    assert deps.install() == code
    line = capsys.readouterr().out
    assert "missing chromium" in line and said in line
    assert ("skipped" in line) == (code == 0)
