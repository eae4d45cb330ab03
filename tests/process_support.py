"""Helpers for the tests of worker processes: which processes of a session are alive."""

from __future__ import annotations

import os
from pathlib import Path


def session_processes(sid: int) -> list[int]:
    """Live (not zombie) processes of session ``sid``."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if os.getsid(int(d.name)) == sid and "Z" not in _state(d):
                    found.append(int(d.name))
            except (ProcessLookupError, PermissionError, FileNotFoundError):
                continue
    return found


def _state(d: Path) -> str:
    return (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
