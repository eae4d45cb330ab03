"""Security headers on every answer and the request-body limit, as pure ASGI middleware.

:class:`SecurityHeaders` adds to every response ``X-Content-Type-Options: nosniff``,
``Referrer-Policy: no-referrer`` (a signed map link carries its signature in the URL; no page
may pass it on), ``X-Frame-Options: DENY`` and, unless the route chose otherwise,
``Cache-Control: no-store``. HTML pages get a Content-Security-Policy that lets them run only
their own inline scripts and styles, by hash (:mod:`maps.csp`); a route may send its own
(a map or a sweep's page does: the policy its file carries, computed once per file by
:func:`page_policy`).
Other answers get ``default-src 'none'; frame-ancestors 'none'``.

:class:`BodyLimit` refuses a request body over the limit with 413 before it is read whole:
from ``Content-Length`` at once, and while a body without one streams in.

:class:`ServerErrors` answers an unhandled exception with a JSON problem 500 (no traceback, no
server path: the server's log keeps them), inside :class:`SecurityHeaders` so that it carries
the same headers as every other answer.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maps import csp
from planner.i18n import _

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
"""The policy of answers that are not HTML (JSON, CSV, files)."""


def html_policy(body: bytes) -> str:
    """The policy of an HTML page the service wrote (hashes of its inline code)."""
    return csp.policy(body.decode("utf-8", errors="replace"))


@functools.lru_cache(maxsize=256)
def _file_policy(path: Path, mtime_ns: int) -> str:
    return csp.page_policy(path.read_text(encoding="utf-8"))


def page_policy(path: Path) -> str:
    """The policy of a page file the service wrote (a map, a sweep's page): the one it
    carries, plus ``frame-ancestors 'none'`` (read and hashed once per file)."""
    return _file_policy(path, path.stat().st_mtime_ns)


class SecurityHeaders:
    """Adds the security headers to every HTTP answer (pure ASGI: no body is copied except
    that of an HTML page without its own policy, which is hashed once)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        parts: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cache-Control", "no-store")
                if "content-security-policy" not in headers:
                    is_html = headers.get("content-type", "").startswith("text/html")
                    if is_html and "content-encoding" not in headers:
                        held = message  # hash the page first
                        return
                    headers["Content-Security-Policy"] = API_POLICY
            elif held is not None and message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(parts)
                MutableHeaders(scope=held)["Content-Security-Policy"] = html_policy(body)
                await send(held)
                message = {"type": "http.response.body", "body": body}
                held = None
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse request bodies over the limit with 413 before reading them whole.

    Parameters
    ----------
    app
        The ASGI app.
    upload_limit : int
        Largest scenario upload (``POST /api/v1/scenarios`` and the office pages'
        ``POST /office/scenarios``; ``PLANNER_MAX_UPLOAD_BYTES``, plus 64 KiB for the
        multipart framing).
    body_limit : int
        Largest body of any other request (``PLANNER_MAX_BODY_BYTES``).
    """

    UPLOAD_PATHS = frozenset({"/api/v1/scenarios", "/office/scenarios"})

    def __init__(self, app: ASGIApp, upload_limit: int, body_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit
        self.body_limit = body_limit

    def _refusal(self, upload: bool, size: int | None) -> bytes:
        """The answer's body, in the language of the request (:mod:`api.server.language`)."""
        if upload:
            what = _("upload") if size is None else _("upload of {size:,} bytes", size=size)
            detail = _(
                "{what} is larger than {limit:,} bytes (PLANNER_MAX_UPLOAD_BYTES)",
                what=what,
                limit=self.upload_limit,
            )
        else:
            what = (
                _("request body")
                if size is None
                else _("request body of {size:,} bytes", size=size)
            )
            detail = _(
                "{what} is larger than {limit:,} bytes (PLANNER_MAX_BODY_BYTES)",
                what=what,
                limit=self.body_limit,
            )
        return json.dumps({"detail": detail}, ensure_ascii=False).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "POST" and scope["path"] in self.UPLOAD_PATHS
        limit = self.upload_limit + 64 * 1024 if upload else self.body_limit
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await _answer_413(send, self._refusal(upload, int(length)))
            return
        received = 0
        refused = started = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        await _answer_413(send, self._refusal(upload, None))
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:  # answered 413 already; whatever the app says after that is dropped
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise


class ServerErrors:
    """Answer an unhandled exception with 500 and a JSON problem in the request's language;
    the exception goes on to the server, which logs it with its traceback for the operator."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if not started:
                detail = _(
                    "unexpected error on the server; the details are in the server's log for "
                    "the operator"
                )
                body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
            raise


def finite(data: Any) -> Any:
    """``data`` (a validation error's fields) with every NaN or infinite number as its text,
    which JSON can carry."""
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, dict):
        return {k: finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [finite(v) for v in data]
    return data


class HeadAsGet:
    """Answer ``HEAD`` as ``GET`` without the body (RFC 9110: a server that serves GET serves
    HEAD), so that ``curl -I`` shows a page's real headers. FastAPI's routes know GET only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(dict(scope, method="GET"), receive, without_body)


async def _answer_413(send: Send, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
