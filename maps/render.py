"""The interactive map of a plan: a standalone Folium page with every asset inlined.

The page is built in two halves. Python reads the plan folder, selects and lightens the
geometry (simplified for the map's extent, snapped to a grid, written as encoded polylines:
:mod:`maps.geometry`), classifies the county values with mapclassify (:mod:`maps.payload`)
and this module writes the one JSON document into the page. Folium builds the Leaflet map, the
layer groups and the layer control. ``static/westplan.js`` fills the groups from the JSON
document, building every popup and tooltip from DOM text nodes, so a name such as
``<img src=x onerror=alert(1)>`` shows as text. The JSON sits in a
``<script type="application/json">`` element with ``<``, ``>`` and ``&`` escaped, so no
value can end it.

Coordinates are WGS-84 throughout, except for Gaode (Amap) tiles, which are drawn in
GCJ-02: with such a tile URL every coordinate is converted here, with
:func:`geodata.crs.wgs84_to_gcj02`, just before it is written.
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from maps import csp
from maps.payload import METRICS, build_payload
from maps.plan import PlanFiles, read_plan
from planner.i18n import language

__all__ = ["render_map", "tiles_crs", "write_map"]

log = logging.getLogger(__name__)


GCJ02_TILE_HOSTS = ("autonavi.com", "amap.com")
"""Tile hosts whose tiles are in GCJ-02 (Gaode/Amap); data are converted for them."""


def tiles_crs(tiles: str | None) -> str:
    """The coordinate system a tile URL template expects: ``"gcj02"`` for Gaode, else WGS-84.

    Parameters
    ----------
    tiles : str or None
        A tile URL template such as ``https://webrd01.is.autonavi.com/appmaptile?...``.

    Returns
    -------
    str
        ``"gcj02"`` if the host is one of :data:`GCJ02_TILE_HOSTS`, else ``"wgs84"``.
    """
    if not tiles:
        return "wgs84"
    host = (urlparse(tiles.replace("{s}", "a")).hostname or "").lower()
    return (
        "gcj02" if any(host == h or host.endswith("." + h) for h in GCJ02_TILE_HOSTS) else "wgs84"
    )


def render_map(
    plan_dir: Path | PlanFiles, province: str | None = None, tiles: str | None = None
) -> str:
    """The standalone HTML page of a plan's map.

    Parameters
    ----------
    plan_dir : pathlib.Path or PlanFiles
        A plan folder (``planner plan``, optionally ``planner route`` into the same folder),
        or what to draw of a plan and its routes (:meth:`PlanFiles.from_results`)
    province : str, optional
        Six-digit province code: draw only this province (counties, posts, flows into and
        out of it, its routes and townships) at a finer scale. Default: the whole plan.
    tiles : str, optional
        Tile URL template (``{z}/{x}/{y}``). Default: no tiles, the polygons are the map.

    Returns
    -------
    str
        The page, with every script and style sheet inlined.

    Raises
    ------
    MapInputError
        If the plan folder cannot be read or the province is unknown.
    """
    files = plan_dir if isinstance(plan_dir, PlanFiles) else read_plan(Path(plan_dir))
    payload = build_payload(files, province, tiles_crs(tiles))
    return csp.with_meta(_page(payload, tiles), csp.image_sources(tiles))


def write_map(
    plan_dir: Path | PlanFiles,
    out: Path | None = None,
    province: str | None = None,
    tiles: str | None = None,
) -> Path:
    """Write :func:`render_map` to ``out`` (default ``plan_dir / "map.html"``; required when
    ``plan_dir`` is a :class:`PlanFiles` of results)."""
    page = render_map(plan_dir, province=province, tiles=tiles)
    folder = plan_dir.folder if isinstance(plan_dir, PlanFiles) else Path(plan_dir)
    if out is None and folder is None:
        raise TypeError("write_map of results needs out=, the file to write")
    target = Path(out) if out is not None else Path(folder or ".") / "map.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    log.info("map written to %s (%d bytes)", target, target.stat().st_size)
    return target


# --- the page --------------------------------------------------------------------------------


def _page(payload: dict[str, Any], tiles: str | None) -> str:
    import folium
    from branca.element import Element, MacroElement
    from folium.plugins import MarkerCluster
    from jinja2 import Template

    from maps import offline

    offline.assets_dir()  # fail early, with the installation hint
    m = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25, minZoom=3, maxZoom=18)
    m.default_js = [(n, offline.asset_url(p)) for n, p in offline.JS]
    m.default_css = [(n, offline.asset_url(p)) for n, p in offline.CSS]
    labels = payload["labels"]
    if tiles:
        folium.TileLayer(
            tiles=tiles,
            attr=html.escape(urlparse(tiles).hostname or "tiles"),
            name=html.escape(labels["layer_tiles"]),
        ).add_to(m)
    groups: dict[str, Any] = {}

    def group(key: str, show: bool = True, label: str | None = None) -> None:
        name = html.escape(labels[f"layer_{label or key}"])
        groups[key] = folium.FeatureGroup(name=name, show=show).add_to(m)

    for metric, _ in METRICS:
        if metric in payload.get("classes", {}):
            group(f"county_{metric}", show=not groups, label=metric)
    if "provinces" in payload:
        group("provinces")
    if "prefectures" in payload:
        group("prefectures", show=bool(payload["title"]["local"]))
    if "flows" in payload:
        group("flows", show=False)
    if "posts" in payload:
        cluster = MarkerCluster(name=html.escape(labels["layer_posts"]))
        cluster.default_js, cluster.default_css = [], []
        groups["posts"] = cluster.add_to(m)
    if "coverage" in payload:
        group("coverage")
    if "routes" in payload:  # one layer; westplan.js shows the day chosen in its day control
        group("stations")
        group("routes")
    control = folium.LayerControl(collapsed=False).add_to(m)

    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    data = data.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")

    class Data(Element):
        """The JSON document, rendered verbatim (it is data, never a template)."""

        def __init__(self, text: str) -> None:
            super().__init__("{{ this.text }}")
            self.text = text

    root: Any = m.get_root()
    root.html.add_child(Data(f'<script type="application/json" id="westplan-data">{data}</script>'))
    call = MacroElement()
    refs = ",".join(f'"{k}":{g.get_name()}' for k, g in groups.items())
    call._template = Template(
        "{% macro script(this, kwargs) %}"
        "westplanMap({{ this._parent.get_name() }}, {" + refs + "}, " + control.get_name() + ");"
        "{% endmacro %}"
    )
    call.add_to(m)
    from maps.offline import inline

    page = root.render()
    if page.count("<html>") == 1:  # the page's language, for screen readers and CJK fonts
        page = page.replace("<html>", f'<html lang="{language()}">')
    return inline(page)
