"""API keys and what a key may do.

A key is shown once when created (``wp_<prefix>_<secret>``); the database keeps only its
SHA-256 digest, which is enough for random 256-bit secrets. Roles:

``national``
    every scenario, job and plan;
``province:CODE``
    only scenarios whose service counties all lie in province ``CODE`` (and their jobs and
    plans); others answer 404 as if they did not exist;
``viewer``
    reads plan summaries and maps (and the index page) only.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import ApiKey, utcnow
from planner.i18n import _

ROLES = ("national", "province", "viewer")
_PROVINCE = re.compile(r"^\d{2}0000$")


class KeyProblem(ValueError):
    """A role or key that cannot be used; the message says what was expected (in the language
    of the moment)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, role, (for a province key) its province code and its
    prefix (what the audit trail records of a key)."""

    key_id: int | None
    role: str
    province: str | None = None
    prefix: str | None = None

    def sees(self, provinces: frozenset[str]) -> bool:
        """Whether a resource whose scope is ``provinces`` exists for this caller."""
        if self.role == "province":
            return bool(provinces) and provinces <= {self.province}
        return True

    @property
    def writes(self) -> bool:
        """National and province keys upload, plan and cancel; viewers only read."""
        return self.role in ("national", "province")


def parse_role(text: str) -> tuple[str, str | None]:
    """``national``, ``viewer`` or ``province:CODE`` -> (role, province)."""
    if text in ("national", "viewer"):
        return text, None
    role, _sep, code = text.partition(":")
    if role == "province" and _PROVINCE.match(code):
        return role, code
    raise KeyProblem(
        _(
            "role {role!r}; expected national, viewer or province:CODE with a 6-digit province "
            "code ending in 0000 (e.g. province:520000)",
            role=text,
        )
    )


def digest(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, role: str, name: str = "") -> tuple[ApiKey, str]:
    """Create a key for ``role`` (``national``, ``viewer``, ``province:CODE``); return it once."""
    kind, province = parse_role(role)
    prefix = secrets.token_hex(4)
    key = f"wp_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(prefix=prefix, digest=digest(key), role=kind, province=province, name=name)
    session.add(row)
    session.commit()
    return row, key


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, oldest first (revoked ones included)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, prefix: str) -> ApiKey:
    """Revoke the key with ``prefix``; raise :class:`KeyProblem` when there is none."""
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if row is None:
        raise KeyProblem(
            _("no key with prefix {prefix!r}; `planner keys list` shows them", prefix=prefix)
        )
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
    return row


def principal_for(session: Session, key: str) -> Principal | None:
    """The caller holding ``key``, or None for an unknown or revoked key."""
    row = session.scalars(select(ApiKey).where(ApiKey.digest == digest(key))).first()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.id, row.role, row.province, row.prefix)


def prefix_is_active(session: Session, prefix: str) -> bool:
    """Whether the key with ``prefix`` exists and is not revoked (a signed map link works while
    the key that made it does)."""
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    return row is not None and row.revoked_at is None
