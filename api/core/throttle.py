"""Throttling of failed authentications, so that keys and map-link signatures cannot be guessed.

Every failed authentication (an unknown or revoked key, a map link with a wrong signature)
counts against the client's address and, when the key looks like one of ours
(``wp_<prefix>_...``), against that key prefix. Once either has
``PLANNER_AUTH_FAILURES_PER_MINUTE`` failures (default 20) in the last minute, every
request from that address or with that prefix that carries a key or a signature answers
**429** with ``Retry-After``, correct keys included, until the window has moved past them.

The counters live in the ``limits`` library's storage: in memory by default (one server), or
Redis (``PLANNER_THROTTLE_STORAGE=redis://host:6379/0``) when several servers share one
database, so that they count together.
"""

from __future__ import annotations

import logging
import math
import re
import time

from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

log = logging.getLogger(__name__)

_KEY = re.compile(r"^wp_([0-9a-f]{8})_")


def key_prefix(key: str | None) -> str | None:
    """The prefix of a key in our format (``wp_<8 hex>_...``), else None. It is not secret:
    ``planner keys list`` shows it and it is what the audit trail records of a key."""
    if not key:
        return None
    found = _KEY.match(key)
    return found.group(1) if found else None


class Throttle:
    """Failed-authentication counters per client address and per key prefix.

    Parameters
    ----------
    per_minute : int
        Failures in a moving one-minute window after which the address or prefix is refused.
    storage : str
        A ``limits`` storage URI: ``memory://`` (default) or ``redis://host:port/db``.
    """

    def __init__(self, per_minute: int, storage: str = "memory://") -> None:
        self.item = RateLimitItemPerMinute(per_minute)
        self.storage_uri = storage
        scheme, sep, rest = storage.partition("://")
        uri = storage if scheme.startswith("async+") else f"async+{scheme}{sep}{rest}"
        options = {"implementation": "redispy"} if scheme in ("redis", "rediss") else {}
        self._storage = storage_from_string(uri, **options)
        self._limiter = MovingWindowRateLimiter(self._storage)

    @staticmethod
    def _subjects(address: str | None, prefix: str | None) -> list[tuple[str, str]]:
        subjects = [("address", address or "unknown")]
        if prefix:
            subjects.append(("prefix", prefix))
        return subjects

    async def retry_after(self, address: str | None, prefix: str | None) -> int | None:
        """Seconds until a request from ``address`` with key ``prefix`` is heard again, or
        None when neither has reached the limit."""
        wait = 0.0
        for kind, value in self._subjects(address, prefix):
            if not await self._limiter.test(self.item, "auth", kind, value):
                reset, _ = await self._limiter.get_window_stats(self.item, "auth", kind, value)
                wait = max(wait, reset - time.time())
        return max(1, math.ceil(wait)) if wait > 0 else None

    async def failed(self, address: str | None, prefix: str | None) -> None:
        """Count one failed authentication of ``address`` (and of ``prefix``)."""
        for kind, value in self._subjects(address, prefix):
            await self._limiter.hit(self.item, "auth", kind, value)

    async def reset(self) -> None:
        """Forget every counter (tests, and an operator after a false alarm)."""
        cleared = self._storage.reset()
        if not isinstance(cleared, int | None):
            await cleared
