#!/usr/bin/env python3
"""The system packages the tests need: found, installed when possible, else skipped in one line.

``python3 tests/support/deps.py`` (the first step of ``make test``, hence of ``.ci/run``) installs the
missing ones with Debian's apt-get when it runs as root or with passwordless sudo (``sudo -n``,
never a password prompt) and prints one line; otherwise it installs nothing and prints what is
missing and the command that installs it. The tests ask the same functions (conftest.py): a
test that needs a missing package is skipped, all such skips folded into one summary line, and
under ``CI=true`` it fails instead. Standard library only: it runs before the venv exists.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = ("chromium", "fonts-noto-cjk", "redis-server", "postgresql")
"""Debian's package names: the browser of the map and office-page tests, a CJK font for their
Chinese text, Redis for the shared-throttle test, PostgreSQL's binaries for the PostgreSQL
half of the API tests (a throwaway cluster of their own: tests/support/pg_cluster.py)."""
CHROMIUM_ENV_VAR = "WESTPLAN_CHROMIUM"


def chromium() -> str | None:
    """The Chromium executable: ``$WESTPLAN_CHROMIUM``, else ``chromium`` on the PATH."""
    return os.environ.get(CHROMIUM_ENV_VAR) or shutil.which("chromium")


def cjk_font() -> bool:
    """Whether fontconfig (which Chromium asks) knows a font with Chinese glyphs."""
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    return bool(listed.stdout.strip())


def postgres_bindir() -> Path | None:
    """The folder of ``initdb`` and ``postgres``: the PATH's, else Debian's newest."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    found = [
        Path(p).parent
        for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")
        if os.access(p, os.X_OK) and os.access(Path(p).with_name("postgres"), os.X_OK)
    ]
    found.sort(key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)])
    return found[-1] if found else None


def missing() -> list[str]:
    """The packages of PACKAGES that this machine lacks."""
    present = {
        "chromium": chromium() is not None,
        "fonts-noto-cjk": cjk_font(),
        "redis-server": shutil.which("redis-server") is not None,
        "postgresql": postgres_bindir() is not None,
    }
    return [p for p in PACKAGES if not present[p]]


def install_command(packages: list[str]) -> str:
    return "sudo apt-get install --no-install-recommends " + " ".join(packages)


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _as_root() -> list[str] | None:
    """The prefix that runs a command as root without a prompt, or None."""
    if os.geteuid() == 0:
        return []
    if (
        shutil.which("sudo")
        and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0
    ):
        return ["sudo", "-n"]
    return None


def install() -> int:
    """Install what is missing (one line says what); 1 when something stays missing under CI."""
    need = missing()
    if not need:
        print(f"test-deps: {', '.join(PACKAGES)} present")
        return 0
    root = _as_root()
    if root is None or shutil.which("apt-get") is None:
        why = "no root and no passwordless sudo" if root is None else "no apt-get"
        what = (
            "CI runs every test, so this run fails"
            if under_ci()
            else "the tests that need them are skipped"
        )
        print(
            f"test-deps: missing {', '.join(need)} ({why}): {what};"
            f" install with: {install_command(need)}"
        )
        return 1 if under_ci() else 0
    print(f"test-deps: installing {' '.join(need)} with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", *need]):
        run = subprocess.run([*root, "apt-get", *step], env=env, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stdout[-3000:] + run.stderr[-3000:], file=sys.stderr)
            print(f"test-deps: apt-get {step[0]} failed", file=sys.stderr)
            return 1
    still = missing()
    if still:
        print(f"test-deps: still missing after apt-get: {', '.join(still)}", file=sys.stderr)
        return 1
    return 0


# --- in the tests ---------------------------------------------------------------------------


@functools.cache
def missing_now() -> tuple[str, ...]:
    """``missing()`` once per test session."""
    return tuple(missing())


def require(*packages: str) -> None:
    """Skip the running test when one of ``packages`` is missing (fail it under CI=true).

    The reason names every missing package, not only this test's, so that pytest's summary
    folds all these skips into one line."""
    import pytest

    absent = missing_now()
    if not any(p in absent for p in packages):
        return
    everything = list(absent)
    if under_ci():
        lacking = ", ".join(p for p in packages if p in absent)
        pytest.fail(f"CI=true and {lacking} is missing: {install_command(everything)}", False)
    pytest.skip(
        f"system packages missing: {', '.join(everything)}; install them with "
        f"`{install_command(everything)}` (make test does, as root or with passwordless sudo)"
    )


if __name__ == "__main__":
    sys.exit(install())
