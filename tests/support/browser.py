"""Open a map page in the system's headless Chromium with the network off, and report.

Used by the map tests and ``benchmarks/maps.py``. Playwright drives Debian's ``chromium``
(``/usr/bin/chromium``, or ``$WESTPLAN_CHROMIUM``); Playwright's own browser download is
not used.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import deps

CHROMIUM_ENV_VAR = deps.CHROMIUM_ENV_VAR
CSP_LISTENER = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation', e => window.__csp.push("
    "e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));"
)
"""An init script that collects a page's Content-Security-Policy violations in
``window.__csp``."""
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]


def chromium_path() -> str:
    """The Chromium executable; raises with the installation hint if there is none."""
    path = deps.chromium()
    if not path:
        raise RuntimeError(
            "no chromium found: install Debian's chromium (apt-get install chromium) or set "
            f"{CHROMIUM_ENV_VAR}"
        )
    return path


@dataclass
class PageVisit:
    """What happened while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    """Every URL requested that is not the page file itself nor a data: URI."""
    dialogs: list[str] = field(default_factory=list)
    ready_ms: float = float("nan")
    """Milliseconds from navigation start until the map's layers were all built."""
    wall_s: float = float("nan")
    """Seconds from ``goto`` until the map answered a first event after being ready."""
    counts: dict[str, int] = field(default_factory=dict)


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium (Playwright Browser) started from the system's executable."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def visit(
    b: Any,
    page_file: Path,
    screenshot: Path | None = None,
    action: Callable[[Any], None] | None = None,
    timeout_ms: int = 30_000,
    ready: str = "window.westplan && window.westplan.ready",
    serve: Callable[[str], Path | None] | None = None,
    viewport: tuple[int, int] = (1280, 900),
) -> PageVisit:
    """Open ``page_file`` offline, wait for the map, collect errors, requests and counts.

    ``action(page)`` runs after the map is ready (e.g. to click a layer or open a popup),
    before the screenshot. ``ready`` is the JavaScript condition of a drawn map. ``serve``
    (for benchmarks of pages that load from CDNs) maps a requested URL to a local file
    that answers it; other requests fail as they would offline. Requests are recorded
    either way. ``viewport`` is the window's (width, height) in CSS pixels.
    """
    result = PageVisit()
    width, height = viewport
    context = b.new_context(offline=True, viewport={"width": width, "height": height})
    page = context.new_page()
    url = page_file.resolve().as_uri()
    if serve is not None:

        def answer(route: Any) -> None:
            local = serve(route.request.url)
            if local is not None:
                route.fulfill(path=str(local))
            elif route.request.url == url:
                route.continue_()
            else:
                route.abort()

        context.route("**/*", answer)

    def on_request(request: Any) -> None:
        if request.url != url and not request.url.startswith("data:"):
            result.requests.append(request.url)

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            result.console_errors.append(msg.text)

    def on_dialog(dialog: Any) -> None:
        result.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: result.page_errors.append(str(exc)))
    page.on("dialog", on_dialog)
    try:
        t0 = time.perf_counter()
        page.goto(url, wait_until="load", timeout=timeout_ms)
        try:
            page.wait_for_function(ready, timeout=timeout_ms)
        except Exception as exc:
            raise AssertionError(
                f"the map never became ready: {exc}; page errors {result.page_errors}, "
                f"console errors {result.console_errors}, requests {result.requests}"
            ) from None
        # interactive: the main thread answers a click on the map after the layers are built
        page.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")
        result.wall_s = time.perf_counter() - t0
        if page.evaluate("!!window.westplan"):
            result.ready_ms = float(page.evaluate("window.westplan.ready"))
            result.counts = dict(page.evaluate("window.westplan.counts"))
        else:
            result.ready_ms = float(page.evaluate("performance.now()"))
        if action is not None:
            action(page)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
    finally:
        context.close()
    return result
