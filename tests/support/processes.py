"""Helpers for the tests of worker processes: a task that sleeps and says where it ran, and which
processes of a session are alive."""

from __future__ import annotations

import os
import time
from pathlib import Path


def slow_square(x: int, delay: float) -> tuple[int, int]:
    """``x * x`` after ``delay`` seconds, and the process that computed it (a module-level
    function, so that worker processes and Dask workers can import it by name)."""
    time.sleep(delay)
    return x * x, os.getpid()


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
