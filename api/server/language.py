"""The language of each HTTP request, as pure ASGI middleware.

Pages (the office pages and the index) speak the language their switch chose (the ``wp_lang``
cookie), else the first of zh-CN and en that the browser's ``Accept-Language`` asks for, else
the server's default (``PLANNER_LANG``, else the system's locale). JSON answers of ``/api/``
follow ``Accept-Language``, else the default: their machine fields (rules, codes, states) never
change, their messages (``detail``, a validation issue's ``message``) are translated.

The language is set for the whole request (:func:`planner.i18n.use`), so every template and
message rendered while answering it speaks it; the answer says which in ``Content-Language``.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planner import i18n

COOKIE = "wp_lang"
"""The cookie the pages' language switch sets."""
API_PREFIX = "/api/"


def request_language(path: str, headers: Headers) -> str:
    """The language of a request to ``path`` with ``headers`` (see the module)."""
    chosen = None
    if not path.startswith(API_PREFIX):
        chosen = cookie_parser(headers.get("cookie", "")).get(COOKIE)
    return i18n.choose(chosen, i18n.accept_language(headers.get("accept-language")))


class Language:
    """Speak the request's language while answering it; say it in ``Content-Language``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lang = request_language(scope["path"], Headers(scope=scope))

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("Content-Language", lang)
            await send(message)

        with i18n.speaking(lang):
            await self.app(scope, receive, send_with_language)
