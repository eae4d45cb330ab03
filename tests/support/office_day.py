"""A browser tab of an office's day: the checks every page it lands on must pass (no CSP
violation, no English code word of the data contract in zh-CN, no ``planner`` command) and its
screenshots into ``docs/img/office/`` (256-colour PNGs)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.support.browser import CSP_LISTENER
from tests.support.paths import REPO

DOCS = REPO / "docs"
SHOTS = DOCS / "img" / "office"
CODE_WORDS = (
    # post categories
    "education", "health", "agriculture", "youth_center", "remote_education", "rural_culture",
    "procuratorate", "legal_aid", "court", "development_finance", "mobile_service",
    # degrees, major classes
    "junior_college", "bachelor", "master", "doctor", "medicine", "law", "economics_finance",
    "engineering", "science", "humanities", "arts", "management",
    # target roles, plan status, fairness kinds, re-plan changes
    "service", "recruit", "optimal", "time-limit", "gap open", "wasted_seat", "justified_envy",
    "kept", "moved", "unplaced", "dropout",
    # reasons an applicant is not placed
    "not-selected", "no-eligible-post", "recruit-target", "bachelor-share", "dispatch-target",
    "pairing",
    # the validation's own words
    "error", "warning", "missing-table", "unknown-county", "bad-value",
)  # fmt: skip
"""English codes that must not show to a zh-CN reader (a word of their own, in any case)."""
CODE_WORD = re.compile(
    r"(?<![A-Za-z0-9_-])(" + "|".join(re.escape(w) for w in CODE_WORDS) + r")(?![A-Za-z0-9_-])",
    re.IGNORECASE,
)
COMMAND = "planner "
TEXT_WITHOUT_CODE = """(() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('code, script, style').forEach(e => e.remove());
  document.documentElement.appendChild(body);  // innerText needs a rendered element
  body.style.position = 'absolute'; body.style.left = '-99999px';
  const text = body.innerText;
  body.remove();
  return text;
})()"""


class Day:
    """One browser tab: the checks of every page it lands on and its screenshots."""

    def __init__(self, page: Any, lang: str, prefix: str | None) -> None:
        self.page = page
        self.lang = lang
        self.prefix = prefix
        self.steps = 0
        self.csp: dict[str, list[str]] = {}
        self.words: dict[str, list[str]] = {}
        self.commands: dict[str, str] = {}
        page.add_init_script(CSP_LISTENER)

    def step(self, name: str, full_page: bool = False) -> None:
        """Check the page now shown and screenshot it as the next step."""
        page = self.page
        page.wait_for_load_state("load")
        page.evaluate("new Promise(r => setTimeout(r, 100))")
        self.csp[name] = page.evaluate("window.__csp || ['no listener']")
        text = page.evaluate("document.body.innerText")
        text += " " + page.title()
        if COMMAND in text:
            self.commands[name] = text[max(0, text.index(COMMAND) - 40) :][:120]
        if self.lang == "zh-CN":  # a <code> element (a rule's code, an id) is a code on purpose
            shown = page.evaluate(TEXT_WITHOUT_CODE) + " " + page.title()
            words = sorted({m.group(0) for m in CODE_WORD.finditer(shown)})
            if words:
                self.words[name] = words
        self.steps += 1
        if self.prefix is not None:
            _screenshot(page, SHOTS / f"{self.prefix}{self.steps:02d}-{name}.png", full_page)


def _screenshot(page: Any, target: Path, full_page: bool) -> None:
    """A 256-colour PNG of the page (a quarter of the size of the true colours)."""
    import io

    from PIL import Image

    raw = page.screenshot(full_page=full_page)
    with Image.open(io.BytesIO(raw)) as im:
        small = im.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    target.parent.mkdir(parents=True, exist_ok=True)
    small.save(target, optimize=True)
