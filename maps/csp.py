"""The Content-Security-Policy of a finished page: hashes of its inline scripts and styles.

A map is one file whose scripts and style sheets are all inline (see :mod:`maps.offline`), so
a policy of ``'self'`` alone would block it and ``'unsafe-inline'`` would allow anything an
attacker managed to inject. :func:`policy` instead lists the SHA-256 hash of each inline
script and style element the page holds: the browser runs exactly those and nothing else
(no ``eval``, no event-handler attributes, no injected element). :func:`with_meta` writes the
policy into the page itself (``<meta http-equiv="Content-Security-Policy">``), so the file
is protected when opened from disk; the HTTP service sends the same policy as a header (see
:func:`page_policy`), where ``frame-ancestors`` also applies (a ``<meta>`` policy cannot
carry it: browsers ignore it there).

Data blocks (``<script type="application/json">``) are never executed and need no hash.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urlsplit

from maps.plan import MapInputError

__all__ = ["META_NAME", "image_sources", "page_policy", "policy", "with_meta"]

META_NAME = "Content-Security-Policy"
_EXECUTABLE = frozenset(
    {"", "text/javascript", "application/javascript", "module", "text/ecmascript"}
)
_META = re.compile(
    r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"\s*/?>', re.IGNORECASE
)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_CHARSET = re.compile(r"<meta\b[^>]*charset[^>]*>", re.IGNORECASE)


class _Inline(HTMLParser):
    """Collects the text of every inline executable script and every style element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.handlers: list[str] = []
        self._into: list[str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.handlers += [f"<{tag} {a}>" for a, _ in attrs if a.startswith("on") or a == "style"]
        if tag == "script" and "src" not in named:
            kind = (named.get("type") or "").strip().lower()
            self._into = self.scripts if kind in _EXECUTABLE else None
        elif tag == "style":
            self._into = self.styles
        else:
            return
        self._text = []

    def handle_data(self, data: str) -> None:
        if self._into is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._into is not None:
            self._into.append("".join(self._text))
        if tag in ("script", "style"):
            self._into = None


def _sha256(text: str) -> str:
    # the browser hashes the element's text after the parser normalised line breaks
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def image_sources(tiles: str | None) -> list[str]:
    """The ``img-src`` source of a tile URL template (none without tiles).

    ``https://{s}.tile.example.org/{z}/{x}/{y}.png`` and ``https://webrd0{s}.is.autonavi.com/``
    become ``https://*.tile.example.org`` and ``https://*.is.autonavi.com``: a subdomain
    placeholder widens the first label to ``*``.

    Raises
    ------
    MapInputError
        If ``tiles`` is not an http(s) URL with a host.
    """
    if not tiles:
        return []
    parts = urlsplit(tiles)
    host = parts.netloc.rsplit("@", 1)[-1]
    if parts.scheme not in ("http", "https") or not host:
        raise MapInputError(f"--tiles {tiles!r}; expected http(s)://host/...{{z}}/{{x}}/{{y}}")
    if "{" in host:
        first, _, rest = host.partition(".")
        if "{" not in first or not rest or "{" in rest:
            raise MapInputError(
                f"--tiles {tiles!r}: only the first label of the host may be a placeholder"
            )
        host = "*." + rest
    return [f"{parts.scheme}://{host}"]


def policy(
    page: str,
    images: Iterable[str] = (),
    frame_ancestors: bool = True,
    runtime_styles: Iterable[str] = (),
) -> str:
    """The Content-Security-Policy that lets ``page`` run its own inline code and nothing else.

    Parameters
    ----------
    page : str
        A finished HTML page.
    images : iterable of str
        Further ``img-src`` sources (a tile server, from :func:`image_sources`).
    frame_ancestors : bool
        Add ``frame-ancestors 'none'`` (for a header; a ``<meta>`` policy cannot carry it).
    runtime_styles : iterable of str
        Hash sources (``'sha256-…'``) of style elements that the page's own scripts insert
        when they run (a bundle's fixed style sheet), which the page text cannot show.

    Returns
    -------
    str
        ``default-src 'none'``; scripts and styles from ``'self'`` and the hashes of the page's
        inline ones; images from ``'self'``, ``data:`` and ``images``; ``base-uri 'none'``;
        ``form-action 'self'``.

    Raises
    ------
    ValueError
        If the page has event-handler or ``style`` attributes, which a policy of hashes
        blocks: the page would be broken under its own policy.
    """
    found = _Inline()
    found.feed(page)
    found.close()
    if found.handlers:
        raise ValueError(
            f"the page has inline attributes that its policy would block: {found.handlers[:5]}"
        )
    scripts = sorted({_sha256(s) for s in found.scripts})
    styles = sorted({_sha256(s) for s in found.styles} | set(runtime_styles))
    directives = [
        "default-src 'none'",
        " ".join(["script-src 'self'", *scripts]),
        " ".join(["style-src 'self'", *styles]),
        " ".join(["img-src 'self' data:", *images]),
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
    if frame_ancestors:
        directives.append("frame-ancestors 'none'")
    return "; ".join(directives)


def with_meta(page: str, images: Iterable[str] = ()) -> str:
    """``page`` with its :func:`policy` in a ``<meta http-equiv>`` at the top of its head.

    The element comes right after the character-set declaration, before any script or style
    (a policy applies only to what follows it). A page that has one already gets it replaced.
    """
    page = _META.sub("", page)
    rule = policy(page, images, frame_ancestors=False)
    meta = f'<meta http-equiv="{META_NAME}" content="{rule}">'
    head = _HEAD.search(page)
    if head is None:
        raise ValueError("the page has no <head>; cannot add its Content-Security-Policy")
    charset = _CHARSET.search(page, head.end())
    at = charset.end() if charset and "<script" not in page[head.end() : charset.start()] else None
    at = at if at is not None else head.end()
    return page[:at] + "\n    " + meta + page[at:]


def page_policy(page: str) -> str:
    """The policy to send as a header with ``page``: its own ``<meta>`` policy (which names
    the tile server it was drawn with) plus ``frame-ancestors 'none'``, else :func:`policy`.
    """
    found = _META.search(page)
    if found is None:
        return policy(page)
    return found.group(1) + "; frame-ancestors 'none'"
