"""Making the SQLite file private must not drop the locks this process holds on it.

Closing any descriptor of a file drops every POSIX lock the process holds on that file
(SQLite's "How To Corrupt An SQLite Database File", 2.2). A restart of the service in the same
process (the tests do this) made the first service's connections lose their locks and fail
with "disk I/O error". Another process tells whether the lock is still held.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from api.db.session import private_sqlite

_TRY_LOCK = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=0)
try:
    c.execute("BEGIN EXCLUSIVE")
except sqlite3.OperationalError as e:
    print(e)
    sys.exit(3)
"""


def _other_process_can_lock(db: Path) -> bool:
    done = subprocess.run([sys.executable, "-c", _TRY_LOCK, str(db)], capture_output=True)
    return done.returncode == 0


def test_private_sqlite_keeps_the_locks_of_open_connections(tmp_path: Path) -> None:
    db = tmp_path / "planner.db"
    held = sqlite3.connect(db, isolation_level=None)
    held.execute("CREATE TABLE t (x)")
    held.execute("BEGIN EXCLUSIVE")
    held.execute("INSERT INTO t VALUES (1)")
    assert not _other_process_can_lock(db)  # the lock is held
    private_sqlite(db)  # as a second service starting on the same file does
    assert not _other_process_can_lock(db), "the connection's lock was dropped"
    held.execute("COMMIT")
    assert db.stat().st_mode & 0o777 == 0o600
    assert _other_process_can_lock(db)


def test_private_sqlite_creates_a_private_file(tmp_path: Path) -> None:
    db = tmp_path / "data" / "planner.db"
    private_sqlite(db)
    assert db.is_file() and db.stat().st_mode & 0o777 == 0o600
    assert db.parent.stat().st_mode & 0o777 == 0o700
