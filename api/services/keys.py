"""The keys as the office pages manage them (national keys): list, make, revoke; and whether
the key that made a signed map link still works.

The keys themselves (hashing, roles, who holds a key) are :mod:`api.core.api_keys`'; this
module answers their problems as domain errors.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from api.core.api_keys import KeyProblem, create_key, list_keys, parse_role, revoke_key
from api.core.api_keys import prefix_is_active as _prefix_is_active
from api.core.errors import Gone, Invalid, NotFound
from api.db.models import ApiKey
from planner.i18n import N_


def all_keys(session: Session) -> list[ApiKey]:
    """Every key, newest first."""
    return list(reversed(list_keys(session)))


def make_key(session: Session, role: str, name: str) -> tuple[ApiKey, str]:
    """A new key of ``role`` (``national``, ``viewer`` or ``province:CODE``) named ``name``:
    its row and the key itself (shown once).

    Raises
    ------
    Invalid
        ``role`` is none of these.
    """
    try:
        parse_role(role)
        return create_key(session, role, name)
    except KeyProblem:
        raise Invalid(
            N_("role {role!r}; expected national, viewer or a province and its code"), role=role
        ) from None


def revoke(session: Session, prefix: str) -> ApiKey:
    """Revoke the key with ``prefix``.

    Raises
    ------
    NotFound
        No key has that prefix.
    """
    try:
        return revoke_key(session, prefix)
    except KeyProblem:
        raise NotFound(N_("no key {prefix!r}"), prefix=prefix) from None


def check_link_key(sessions: sessionmaker[Session], prefix: str) -> None:
    """Refuse a signed map link whose key (``prefix``) has been revoked since it was made
    (blocking: call it off the event loop).

    Raises
    ------
    Gone
        The key is revoked (or no longer exists): the link stopped working with it.
    """
    with sessions() as session:
        active = _prefix_is_active(session, prefix)
    if not active:
        raise Gone(N_("the key that made this map link has been revoked; ask for a new link"))
