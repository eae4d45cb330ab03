"""The page of a scenario sweep: ``sweep.html``, one file that opens with the network off.

It reads the folder written by ``planner sweep`` (``sweep.csv``, one row per plan, the base
first; ``sweep_counties.csv``, per variant and county the volunteers placed in the base and
in the variant) and draws

- a comparison chart: one bar per plan for the measure chosen (objective, each term,
  placed, unfilled quota, empty relay seats, budget, justified envy, gap), the base marked;
- the table of ``sweep.csv``;
- a map of the counties coloured by the change of placed volunteers between the base and
  the variant chosen (gain blue, loss red), with the volunteers who arrived and left in
  each county's popup.

Leaflet and @mapbox/polyline are inlined (:mod:`maps.offline`); the chart is SVG drawn by
``static/sweep.js`` from the page's JSON document; every name reaches the page as text. Like
a map, the page carries its Content-Security-Policy in a ``<meta>`` (:func:`maps.csp.with_meta`:
its own inline scripts and styles by hash, nothing else), which the HTTP service also sends.
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geodata import planfolder
from geodata.planfolder import PlanFolderError
from maps.plan import MapInputError
from planner.i18n import N_, render

log = logging.getLogger(__name__)

SWEEP_JS: tuple[tuple[str, str], ...] = (
    ("leaflet", "leaflet/dist/leaflet.js"),
    ("polyline", "@mapbox/polyline/src/polyline.js"),
    ("sweep", "westplan:sweep.js"),
)
"""Scripts of the sweep page (names and paths as :data:`maps.offline.JS`)."""

SWEEP_CSS: tuple[tuple[str, str], ...] = (
    ("leaflet_css", "leaflet/dist/leaflet.css"),
    ("sweep_css", "westplan:westplan.css"),
)

MEASURES: tuple[tuple[str, str], ...] = (
    ("objective", N_("objective")),
    ("term_relay_empty", N_("term 1: empty relay seats")),
    ("term_quota_unfilled", N_("term 2: unfilled quota")),
    ("term_preference", N_("term 3: preference rank")),
    ("term_major_mismatch", N_("term 4: major mismatch")),
    ("term_transport", N_("term 5: transport subsidy")),
    ("placed", N_("volunteers placed")),
    ("quota_unfilled", N_("quota units unfilled")),
    ("relay_empty_seats", N_("relay seats empty")),
    ("budget_cny", N_("budget (CNY / year)")),
    ("justified_envy", N_("justified envy")),
    ("moved_from_base", N_("volunteers placed elsewhere than in the base")),
    ("gap", N_("gap")),
)
"""The measures the chart can show, with their labels."""

_LABELS: dict[str, str] = {
    "title": N_("Sweep of {name}: {n} variants and the base"),
    "chart": N_("Comparison of the plans"),
    "measure": N_("Measure"),
    "table": N_("Every plan"),
    "map": N_("Where the placements change"),
    "variant": N_("Variant"),
    "base": N_("base"),
    "county_base": N_("placed in the base"),
    "county_variant": N_("placed in the variant"),
    "arrived": N_("arrived"),
    "left": N_("left"),
    "change": N_("change"),
    "legend_gain": N_("more volunteers"),
    "legend_loss": N_("fewer volunteers"),
    "legend_same": N_("as many (some may have moved)"),
    "certified": N_("every plan certified optimal (gap at most {tol})"),
    "not_certified": N_("{n} plan(s) NOT certified optimal: see the status column"),
}


def read_sweep(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """``sweep.csv``, ``sweep_counties.csv`` and ``sweep.json`` of a sweep folder
    (:func:`geodata.planfolder.read_sweep`).

    Raises
    ------
    MapInputError
        When a file is missing or lacks its columns.
    """
    try:
        return planfolder.read_sweep(folder)
    except PlanFolderError as exc:
        raise MapInputError(str(exc)) from None


def render_sweep(folder: Path) -> str:
    """The HTML of a sweep folder's page (see the module docstring)."""
    from geodata.china import load_counties
    from maps import csp, offline
    from maps.geometry import Scale, encode

    table, by_county, meta = read_sweep(folder)
    offline.assets_dir()  # fail early, with the installation hint
    counties = load_counties(simplified=True)
    codes = sorted(set(meta.get("counties", [])) | set(by_county["county_code"]))
    frame = counties[counties["code"].isin(codes)].reset_index(drop=True)
    scale = Scale(0.0, 0.001)
    labels = {k: render(v) for k, v in _LABELS.items()}
    n = len(table) - 1
    labels["title"] = render(_LABELS["title"], {"name": meta.get("scenario", ""), "n": n})
    not_opt = int((~table["optimal"].astype(bool)).sum())
    labels["status"] = (
        render(_LABELS["not_certified"], {"n": not_opt})
        if not_opt
        else render(_LABELS["certified"], {"tol": f"{meta.get('gap_tolerance', 1e-4):.2%}"})
    )
    changes: dict[str, dict[str, list[int]]] = {}
    numbers = by_county[["variant", "base", "variant_placed", "arrived", "left", "change"]]
    for code, values in zip(
        by_county["county_code"].astype(str), numbers.to_numpy(np.int64).tolist(), strict=True
    ):
        changes.setdefault(str(values[0]), {})[code] = values[1:]
    payload = {
        "labels": labels,
        "measures": [[k, render(v)] for k, v in MEASURES],
        "columns": list(table.columns),
        "rows": [[_cell(v) for v in r] for r in table.itertuples(index=False)],
        "counties": [
            {
                "code": r.code,
                "name": r.name,
                "province": r.province_name,
                "g": encode(r.geometry, scale.grid),
            }
            for r in frame.itertuples(index=False)
        ],
        "changes": changes,
    }
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    data = data.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    title = html.escape(labels["title"])
    scripts = "".join(f'<script src="{offline.asset_url(p)}"></script>' for _, p in SWEEP_JS)
    styles = "".join(
        f'<link rel="stylesheet" href="{offline.asset_url(p)}"/>' for _, p in SWEEP_CSS
    )
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"/><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"/>{styles}
<style>body{{font-family:sans-serif;margin:0 1.5em 2em}}#sweep-map{{height:560px}}
.sweep-table{{border-collapse:collapse;font-size:12px}}.sweep-table td,.sweep-table th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}
.sweep-legend span{{display:inline-block;width:14px;height:14px;margin:0 4px 0 12px;vertical-align:middle}}
.sweep-scroll{{overflow-x:auto}}</style>
</head><body><h1>{title}</h1><p id="sweep-status"></p>
<h2 id="sweep-chart-title"></h2><label id="sweep-measure-label"></label> <select id="sweep-measure"></select>
<div id="sweep-chart"></div>
<h2 id="sweep-map-title"></h2><label id="sweep-variant-label"></label> <select id="sweep-variant"></select>
<div class="sweep-legend" id="sweep-legend"></div><div id="sweep-map"></div>
<h2 id="sweep-table-title"></h2><div class="sweep-scroll"><table class="sweep-table" id="sweep-table"></table></div>
<script type="application/json" id="sweep-data">{data}</script>{scripts}
</body></html>"""
    return csp.with_meta(offline.inline(page))


def _cell(value: Any) -> Any:
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if not np.isfinite(value) else float(value)
    return str(value)


def write_sweep_page(folder: Path, out: Path | None = None) -> Path:
    """Write ``sweep.html`` of a sweep folder (or ``out``); returns its path."""
    path = out or folder / "sweep.html"
    path.write_text(render_sweep(folder), encoding="utf-8")
    log.info("sweep page written to %s (%.2f MB)", path, path.stat().st_size / 1e6)
    return path
