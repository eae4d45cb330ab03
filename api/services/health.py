"""What the service's readiness says: whether the database answers and the data folder is
writable (the job runner's state is the caller's to add)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from api.core.settings import Settings


def readiness(session: Session, settings: Settings) -> dict[str, str]:
    """``{"database": ..., "data_dir": ...}``, each ``ok`` or ``error: WHAT``."""
    checks: dict[str, str] = {}
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    probe = settings.data_dir / ".ready"
    try:
        probe.write_text("ok")
        checks["data_dir"] = "ok"
    except OSError as exc:
        checks["data_dir"] = f"error: {exc.strerror}"
    return checks
