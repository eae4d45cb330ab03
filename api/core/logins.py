"""Sessions of the office pages: a browser signs in with a key once and then carries a cookie.

The cookie holds a random token (256 bits); the database keeps only its SHA-256 digest, the
key it stands for and when it expires (``PLANNER_SESSION_SECONDS``, default 8 hours). A
session ends when it expires, when its holder signs out (the row is deleted, so a copied
cookie stops working too), or when its key is revoked (the lookup joins the key).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.core.api_keys import Principal
from api.db.models import ApiKey, WebSession, utcnow

COOKIE = "wp_session"
"""The name of the session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, key_id: int, seconds: float) -> str:
    """Open a session for the key ``key_id``; return its token (for the cookie, once).
    Expired sessions are deleted on the way."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            digest=_digest(token),
            key_id=key_id,
            created_at=now,
            expires_at=now + timedelta(seconds=seconds),
        )
    )
    session.commit()
    return token


def principal_of(session: Session, token: str) -> Principal | None:
    """The caller a session token stands for; None when it is unknown, expired, or its key
    is revoked."""
    row = session.execute(
        select(ApiKey, WebSession.expires_at)
        .join(WebSession, WebSession.key_id == ApiKey.id)
        .where(WebSession.digest == _digest(token))
    ).first()
    if row is None:
        return None
    key, expires = row
    if key.revoked_at is not None or _aware(expires) < utcnow():
        return None
    return Principal(key.id, key.role, key.province, key.prefix)


def end(session: Session, token: str) -> None:
    """End the session of ``token`` (sign-out)."""
    session.execute(delete(WebSession).where(WebSession.digest == _digest(token)))
    session.commit()


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
