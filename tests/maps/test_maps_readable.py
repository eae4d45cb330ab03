"""Maps a person can read, checked in headless Chromium and in the PNG overview.

One control for the campaign day, legends clear of the layer control at a large and a small
window, the office's numbers in every county popup, Chinese text set in a CJK font (the
page's, named by Chromium itself; the PNG's, named by the glyphs matplotlib wrote), and the
screenshots of both demo maps that ``docs/maps.md`` shows. Every expected number is
computed here from the plan folder's files with plain pandas, independently of maps/.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from maps import write_map, write_png
from maps.labels import map_labels
from planner import i18n
from tests.support.browser import visit
from tests.support.maps import ARTIFACTS, check_clean, read_table
from tests.support.paths import REPO

DOCS_IMG = REPO / "docs" / "img"
DEMOS = ("western-2006", "huaihua-screening")
SCREEN = (1600, 1000)
CJK = re.compile(r"[\u3400-\u9fff]")
pytestmark = pytest.mark.slow  # the module runs `planner demo` once (about a minute and a half)

CJK_FAMILIES = re.compile(r"CJK|Source Han|WenQuanYi|YaHei|PingFang|Hei|Song", re.IGNORECASE)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plans and maps of ``planner demo``: western-2006, huaihua-screening (routed), made
    in Chinese (``PLANNER_LANG=zh-CN``) as an office would see them."""
    out = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "COLUMNS": "200", i18n.ENV: "zh-CN"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in DEMOS:
        assert (out / name / "map.html").is_file()
    return out


def _overlaps(a: list[float], b: list[float]) -> bool:
    """Whether two [left, top, right, bottom] boxes share any area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _popup_rows(page: Any) -> dict[str, str]:
    """The field name -> value rows of the popup opened last."""
    rows = page.evaluate(
        """() => [...[...document.querySelectorAll('.leaflet-popup-content')].pop()
                  .querySelectorAll('tr')].map(tr => [tr.cells[0].innerText, tr.cells[1].innerText])"""
    )
    return {k: v for k, v in rows}


def _county_popup(page: Any, code: str) -> dict[str, str]:
    """Open the popup of a county (as a click on it would) and read its rows."""
    page.evaluate(
        """(code) => {
          const c = window.westplan.layers.county_fill.getLayers()
            .find(l => l.feature.properties.code === code);
          c.openPopup(c.getBounds().getCenter());
        }""",
        code,
    )
    return _popup_rows(page)


# --- the campaign day ------------------------------------------------------------------------


def test_one_day_control_instead_of_a_layer_per_day(routed_dir: Path, chromium: Any) -> None:
    labels = map_labels()
    page_file = write_map(routed_dir, out=routed_dir.parent / "days.html")
    features = json.loads((routed_dir / "routes.geojson").read_text())["features"]
    per_day: dict[str, list[dict[str, Any]]] = {}
    for f in features:
        per_day.setdefault(str(f["properties"]["day"]), []).append(f)
    days = sorted(per_day, key=int)
    seen: dict[str, Any] = {}

    def drawn(page: Any) -> tuple[int, int]:
        return (
            page.evaluate("document.querySelectorAll('path.wp-route').length"),
            page.evaluate("document.querySelectorAll('path.wp-stop').length"),
        )

    def use_the_control(page: Any) -> None:
        seen["layers"] = page.eval_on_selector_all(
            ".leaflet-control-layers-overlays label", "ls => ls.map(l => l.textContent.trim())"
        )
        seen["options"] = page.eval_on_selector_all(
            ".wp-day-select option", "os => os.map(o => [o.value, o.textContent])"
        )
        seen["first"] = drawn(page)
        page.select_option(".wp-day-select", "all")
        seen["all"] = drawn(page)
        page.select_option(".wp-day-select", "1")
        seen["second"] = drawn(page)
        page.locator("path.wp-stop").first.dispatch_event("click")  # under a route line
        seen["stop"] = _popup_rows(page)
        page.keyboard.press("Escape")
        page.get_by_text(labels["layer_routes"], exact=True).click()  # the routes layer off
        seen["off"] = drawn(page)
        seen["control_hidden"] = page.evaluate(
            "getComputedStyle(document.querySelector('.wp-days')).display === 'none'"
        )

    check_clean(visit(chromium, page_file, ARTIFACTS / "map-days.png", action=use_the_control))
    assert seen["layers"].count(labels["layer_routes"]) == 1
    assert not [x for x in seen["layers"] if re.search(r"\bday\b|第", x)]  # no layer per day
    assert seen["options"] == [
        ["all", labels["day_all"]],
        *[[str(i), labels["day"].replace("{}", d)] for i, d in enumerate(days)],
    ]

    def stops(day_features: list[dict[str, Any]]) -> int:
        return sum(len(f["properties"]["stops"]) for f in day_features)

    assert seen["first"] == (len(per_day[days[0]]), stops(per_day[days[0]]))
    assert seen["all"] == (len(features), stops(features))
    assert seen["second"] == (len(per_day[days[1]]), stops(per_day[days[1]]))
    assert seen["stop"][labels["stop_day"]] == days[1]
    assert seen["off"] == (0, 0) and seen["control_hidden"]


# --- legends and controls --------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [SCREEN, (800, 600)], ids=["1600x1000", "800x600"])
@pytest.mark.parametrize("name", DEMOS)
def test_legend_never_covers_a_control(
    demo_dir: Path, chromium: Any, name: str, viewport: tuple[int, int]
) -> None:
    """Every layer on (every legend shown) and all days: the legend covers no control."""
    boxes: dict[str, Any] = {}

    def everything_on(page: Any) -> None:
        page.eval_on_selector_all(
            ".leaflet-control-layers-overlays input:not(:checked)",
            "ins => ins.forEach(i => i.click())",
        )
        if page.locator(".wp-day-select").count():
            page.select_option(".wp-day-select", "all")
        boxes.update(
            page.evaluate(
                """() => {
                  const box = e => { const r = e.getBoundingClientRect();
                                     return [r.left, r.top, r.right, r.bottom]; };
                  const shown = e => e.getClientRects().length > 0;
                  return {
                    legend: box(document.querySelector('.wp-legend')),
                    layers: box(document.querySelector('.leaflet-control-layers')),
                    others: [...document.querySelectorAll('.leaflet-control')]
                      .filter(e => shown(e) && !e.matches('.wp-legend, .leaflet-control-layers'))
                      .map(e => [e.className, box(e)]),
                    map: box(document.querySelector('.leaflet-container')),
                    sections: [...document.querySelectorAll('.wp-legend-section')].map(shown),
                    unchecked: document.querySelectorAll(
                      '.leaflet-control-layers-overlays input:not(:checked)').length,
                  };
                }"""
            )
        )

    shot = ARTIFACTS / f"legend-{name}-{viewport[0]}x{viewport[1]}.png"
    check_clean(
        visit(chromium, demo_dir / name / "map.html", shot, everything_on, viewport=viewport)
    )
    assert boxes["unchecked"] == 0 and all(boxes["sections"])  # every legend is shown
    legend, layers, frame = boxes["legend"], boxes["layers"], boxes["map"]
    assert not _overlaps(legend, layers), (legend, layers)
    for cls, other in boxes["others"]:
        assert not _overlaps(legend, other), (cls, legend, other)
        assert not _overlaps(layers, other), (cls, layers, other)
    assert frame[1] <= legend[1] and legend[3] <= frame[3]  # inside the map, scrolled if long
    assert legend[3] - legend[1] >= 40


# --- the office's numbers ----------------------------------------------------------------------


def test_county_popups_show_the_office_numbers(demo_dir: Path, chromium: Any) -> None:
    """Every county of the routed huaihua-screening plan: quota, placed, fill, relay, budget,
    townships at target, as computed here from summary.json and the plan's CSV files."""
    folder = demo_dir / "huaihua-screening"
    with i18n.speaking("zh-CN"):
        labels = map_labels()
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assignments = read_table(folder / "assignments.csv")
    seats = read_table(folder / "seats.csv")
    coverage = read_table(folder / "coverage.csv")
    quota = {c: int(q) for c, q in summary["county_quota"].items()}
    placed = assignments["county_code"].value_counts()
    budget = assignments["budget_cny"].astype(int).groupby(assignments["county_code"]).sum()
    relay = seats[seats["relay"] == "1"]
    relay_empty = relay["relay_empty"].astype(int).groupby(relay["county_code"]).sum()
    met = coverage["met"].str.lower().isin(["1", "true"])
    township_county = coverage["township_code"].str[:6]
    assert (coverage["county_code"] == township_county).all()

    def number(text: str) -> int:
        return int(text.replace(",", ""))

    shown: dict[str, dict[str, str]] = {}

    def open_popups(page: Any) -> None:
        for code in quota:
            shown[code] = _county_popup(page, code)

    check_clean(visit(chromium, folder / "map.html", action=open_popups))
    assert set(shown) == set(quota) and len(quota) == 12
    for code, rows in shown.items():
        n_placed = int(placed.get(code, 0))
        fill = (Decimal(100 * n_placed) / Decimal(quota[code])).quantize(Decimal(1), ROUND_HALF_UP)
        n_met = int(met[township_county == code].sum())
        n_townships = int((township_county == code).sum())
        assert number(rows[labels["county_quota"]]) == quota[code], code
        assert number(rows[labels["county_placed"]]) == n_placed, code
        assert rows[labels["county_fill"]] == f"{fill}%", code
        assert number(rows[labels["county_relay"]]) == int(relay_empty.get(code, 0)), code
        assert number(rows[labels["county_budget"]]) == int(budget.get(code, 0)), code
        assert rows[labels["county_townships_met"]] == f"{n_met} / {n_townships}", code
    ratios = [rows[labels["county_townships_met"]].split(" / ") for rows in shown.values()]
    assert any(k != n for k, n in ratios)  # some county misses townships


def test_county_popup_without_routing_has_no_township_row(plan_dir: Path, chromium: Any) -> None:
    labels = map_labels()
    code = read_table(plan_dir / "seats.csv")["county_code"].iloc[0]
    rows: dict[str, str] = {}

    def open_popup(page: Any) -> None:
        rows.update(_county_popup(page, code))

    page_file = write_map(plan_dir, out=plan_dir.parent / "popup.html")
    check_clean(visit(chromium, page_file, action=open_popup))
    assert labels["county_quota"] in rows and labels["county_budget"] in rows
    assert labels["county_townships_met"] not in rows


# --- the map's language ------------------------------------------------------------------------

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_map_speaks_the_language_it_was_drawn_in(
    routed_dir: Path, chromium: Any, tmp_path: Path, lang: str
) -> None:
    """Drawn under zh-CN every text of the page's own is Chinese (no English word), under en
    English (no Chinese character): the layer control, the legend titles, the day control,
    the heading, a county popup's and a stop popup's field names; the page says its language."""
    code = read_table(routed_dir / "seats.csv")["county_code"].iloc[0]
    with i18n.speaking(lang):
        page_file = write_map(routed_dir, out=tmp_path / f"map-{lang}.html")
    seen: dict[str, Any] = {}

    def read_texts(page: Any) -> None:
        seen["lang"] = page.evaluate("document.documentElement.lang")
        seen["layers"] = page.eval_on_selector_all(
            ".leaflet-control-layers-overlays label", "ls => ls.map(l => l.textContent.trim())"
        )
        seen["legends"] = page.eval_on_selector_all(
            ".wp-legend .wp-title", "ts => ts.map(t => t.textContent)"
        )
        seen["days"] = page.eval_on_selector_all(
            ".wp-day-label .wp-title, .wp-day-select option", "os => os.map(o => o.textContent)"
        )
        seen["county"] = list(_county_popup(page, code))
        page.keyboard.press("Escape")
        page.locator("path.wp-stop").first.dispatch_event("click")
        seen["stop"] = list(_popup_rows(page))

    check_clean(visit(chromium, page_file, action=read_texts))
    texts = [t for key in ("layers", "legends", "days", "county", "stop") for t in seen[key]]
    assert seen["lang"] == lang
    assert len(seen["layers"]) >= 7 and len(seen["county"]) >= 5 and len(seen["stop"]) >= 4
    for text in texts:
        if lang == "zh-CN":
            assert CJK.search(text) and not LATIN_WORD.search(text), text
        else:
            assert LATIN_WORD.search(text) and not CJK.search(text), text
    with i18n.speaking(lang):
        labels = map_labels()
    assert labels["layer_routes"] in seen["layers"] and labels["county_quota"] in seen["county"]
    assert labels["stop_arrival"] in seen["stop"]


def test_the_png_overview_speaks_the_language_it_was_drawn_in(
    routed_dir: Path, tmp_path: Path
) -> None:
    """report.png's title and legend in the language of the moment."""
    import matplotlib.pyplot as plt

    from maps.overview import overview_figure

    for lang in ("zh-CN", "en"):
        with i18n.speaking(lang):
            fig = overview_figure(routed_dir)
        ax = fig.axes[0]
        title = ax.get_title().splitlines()[-1]  # the legend's title under the heading
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        plt.close(fig)
        if lang == "zh-CN":
            assert CJK.search(title) and not LATIN_WORD.search(title), title
            assert CJK.search(legend[-1]), legend  # "no data"
        else:
            assert LATIN_WORD.search(title) and not CJK.search(title), title
            assert not any(CJK.search(t) for t in legend), legend


# --- Chinese text in a CJK font ----------------------------------------------------------------


@pytest.mark.needs("fonts-noto-cjk")
def test_chinese_text_renders_in_a_cjk_font(demo_dir: Path, chromium: Any) -> None:
    """Chromium names the platform font of every glyph: the CJK ones come from a CJK font.

    A character that no installed font holds is drawn as a box (.notdef) of the first
    font and counted under it, so this fails on a system without a CJK font.
    """
    fonts: dict[str, list[dict[str, Any]]] = {}
    texts: dict[str, str] = {}
    with i18n.speaking("zh-CN"):
        chinese = map_labels()
    selectors = {
        "area": ".wp-heading > div:nth-child(2)",
        "synthetic": ".wp-synthetic",
        "layer": "[data-probe=layer]",
        "legend": ".wp-legend .wp-title",
        "day": ".wp-day-label .wp-title",
    }

    def ask_chromium(page: Any) -> None:
        page.evaluate(
            """(name) => [...document.querySelectorAll('.leaflet-control-layers-overlays span')]
                 .find(s => s.children.length === 0 && s.textContent.trim() === name)
                 .setAttribute('data-probe', 'layer')""",
            chinese["layer_provinces"],
        )
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        for key, selector in selectors.items():
            node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
            assert node, selector
            fonts[key] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            texts[key] = page.inner_text(selector)

    check_clean(visit(chromium, demo_dir / "huaihua-screening" / "map.html", action=ask_chromium))
    assert "怀化" in texts["area"]
    for key, text in texts.items():
        chinese = len(CJK.findall(text))
        assert chinese, (key, text)
        cjk_glyphs = sum(
            f["glyphCount"] for f in fonts[key] if CJK_FAMILIES.search(f["familyName"])
        )
        assert cjk_glyphs >= chinese, (
            f"{key} {text!r}: {chinese} Chinese characters, {cjk_glyphs} glyphs from a CJK "
            f"font; fonts used: {fonts[key]} (install fonts-noto-cjk)"
        )


def test_png_title_is_set_in_the_packaged_cjk_font(routed_dir: Path, tmp_path: Path) -> None:
    """report.png with a Chinese title: no warning, and its glyphs from mplfonts' Noto CJK.

    The SVG of the same figure names the font of every glyph drawn (``<font>-<glyph
    index>`` ids), which is what matplotlib actually used, not what was asked for;
    fontTools reads that font's name, character map and glyph indices from the file the
    package ships.
    """
    from importlib.resources import files

    import matplotlib.pyplot as plt
    from fontTools.ttLib import TTFont

    from maps.overview import overview_figure

    folder = tmp_path / "plan"
    shutil.copytree(routed_dir, folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary["scenario"]["name"] = "怀化市流动服务"
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" fails the test
        png = write_png(folder)
        fig = overview_figure(folder)
        svg = io.StringIO()
        fig.savefig(svg, format="svg")
    title = fig.axes[0].get_title()
    plt.close(fig)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "怀化市流动服务" in title
    font_file = Path(str(files("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf"))
    font = TTFont(font_file)
    name = font["name"].getDebugName(6)  # the PostScript name
    cmap = font.getBestCmap()
    assert name == "NotoSansCJKsc-Regular"
    drawn = set(re.findall(r'<path id="([^"]+-[0-9a-f]+)"', svg.getvalue()))
    assert {glyph.rsplit("-", 1)[0] for glyph in drawn} == {name}  # every glyph of the figure
    for char in set(CJK.findall(title)):
        glyph = font.getGlyphID(cmap[ord(char)])  # KeyError: not in the font
        assert f"{name}-{glyph:x}" in drawn, char


def test_missing_cjk_font_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    import maps.overview

    monkeypatch.setattr(maps.overview, "CJK_FONT_FILE", "NoSuchFont-Regular.otf")
    with pytest.raises(RuntimeError, match=r"NoSuchFont-Regular\.otf of the mplfonts package"):
        maps.overview.cjk_font()


# --- the screenshots of docs/maps.md -----------------------------------------------------------


@pytest.mark.parametrize("name", DEMOS)
def test_demo_map_screenshots_for_the_docs(demo_dir: Path, chromium: Any, name: str) -> None:
    """docs/img/map-<demo>.png: the demo map at 1600x1000 as it opens.

    Written as a 256-colour PNG (a quarter of the size; k-means keeps the palette on the
    true colours, so the grey background stays grey), and shown in docs/maps.md.
    """
    from PIL import Image

    raw = ARTIFACTS / f"docs-{name}.png"
    v = visit(chromium, demo_dir / name / "map.html", raw, viewport=SCREEN)
    check_clean(v)
    with Image.open(raw) as im:
        assert im.size == SCREEN
        rgb = im.convert("RGB")
    pixels = np.asarray(rgb)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # a map, not a blank page
    small = rgb.quantize(colors=256, method=Image.Quantize.MAXCOVERAGE, kmeans=4)
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    target = DOCS_IMG / f"map-{name}.png"
    small.save(target, optimize=True)
    assert target.stat().st_size < 400_000
    assert f"img/map-{name}.png" in (DOCS_IMG.parent / "maps.md").read_text(encoding="utf-8")
