"""The map of the moves between two versions of a plan: one file that opens with the network
off (issue 25, the office's comparison page).

:func:`render_moves` draws from the two :class:`planner.Plan` objects (``planner.read_plan``
of each folder): a line from the old post's township to the new post's township for every
pair of townships volunteers moved between (wider for more volunteers; its tooltip names
them), a green circle at the township of each newly placed volunteer's post and a red one at
the township of each volunteer no longer placed, and a legend. Leaflet is inlined
(:mod:`maps.offline`) and the page carries its Content-Security-Policy in a ``<meta>``
(:func:`maps.csp.with_meta`), like every map of westplan. Every name reaches the page
escaped.
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.i18n import N_, language, render

if TYPE_CHECKING:
    from planner.plan import Plan

MOVES_JS: tuple[tuple[str, str], ...] = (("leaflet", "leaflet/dist/leaflet.js"),)
MOVES_CSS: tuple[tuple[str, str], ...] = (("leaflet_css", "leaflet/dist/leaflet.css"),)
COLOURS = {"moved": "#1f5fbf", "placed": "#1a9641", "unplaced": "#d7191c"}
NAMES_SHOWN = 20
"""Applicants named in one tooltip; more are counted."""

_LABELS: dict[str, str] = {
    "title": N_("Moves between two versions of the plan"),
    "moved": N_("moved (line from the old township to the new one)"),
    "placed": N_("newly placed"),
    "unplaced": N_("no longer placed"),
    "line": N_("{n} moved from {a} to {b}: {names}"),
    "point_moved": N_("{n} moved between posts of {place}: {names}"),
    "point_placed": N_("{n} newly placed in {place}: {names}"),
    "point_unplaced": N_("{n} no longer placed, last in {place}: {names}"),
    "more": N_("{names} and {n} more"),
    "none": N_("nobody moved, was newly placed or left"),
    "counties": N_("county outlines"),
}


def townships(*plans: Plan) -> dict[str, tuple[float, float, str]]:
    """Post id -> (lon, lat, "county township") of every post of the plans."""
    from geodata.shown import place_name

    found: dict[str, tuple[float, float, str]] = {}
    for plan in plans:
        seats = plan.seats
        for post, county, town, lon, lat in zip(
            seats["post_id"].astype(str),
            seats["county_code"].astype(str),
            seats["township_name"].astype(str),
            seats["lon"].astype(float),
            seats["lat"].astype(float),
            strict=True,
        ):
            found.setdefault(post, (lon, lat, f"{place_name(county) or county} {town}".strip()))
    return found


def _names(ids: list[str]) -> str:
    shown = "、".join(ids[:NAMES_SHOWN]) if language() == "zh-CN" else ", ".join(ids[:NAMES_SHOWN])
    if len(ids) > NAMES_SHOWN:
        return render(_LABELS["more"], {"names": shown, "n": len(ids) - NAMES_SHOWN})
    return shown


def moves_layers(before: Plan, after: Plan) -> dict[str, Any]:
    """What the map draws: ``lines`` ((lon, lat) from, (lon, lat) to, tooltip, count) and
    ``points`` (change, lon, lat, tooltip, count), from :meth:`planner.Plan.diff`."""
    where = townships(before, after)
    d = after.diff(before)
    pairs: dict[tuple[tuple[float, float], tuple[float, float]], list[str]] = defaultdict(list)
    names: dict[tuple[tuple[float, float], tuple[float, float]], tuple[str, str]] = {}
    spots: dict[tuple[str, tuple[float, float]], list[str]] = defaultdict(list)
    spot_names: dict[tuple[float, float], str] = {}
    for aid, old, new, change in (
        d[["applicant_id", "before_post", "after_post", "change"]].to_numpy(str).tolist()
    ):
        if change == "moved":
            a, b = where[old], where[new]
            key = ((a[0], a[1]), (b[0], b[1]))
            if key[0] == key[1]:  # another post of the same township: a point, not a line
                spots[("moved", key[0])].append(aid)
                spot_names[key[0]] = a[2]
                continue
            pairs[key].append(aid)
            names[key] = (a[2], b[2])
        elif change in ("placed", "unplaced"):
            x = where[new if change == "placed" else old]
            spots[(change, (x[0], x[1]))].append(aid)
            spot_names[(x[0], x[1])] = x[2]
    lines = [
        (a, b, render(_LABELS["line"], {"n": len(ids), "a": names[(a, b)][0],
                                         "b": names[(a, b)][1], "names": _names(ids)}), len(ids))
        for (a, b), ids in sorted(pairs.items())
    ]  # fmt: skip
    points = [
        (change, xy[0], xy[1], render(_LABELS[f"point_{change}"], {"n": len(ids),
         "place": spot_names[xy], "names": _names(ids)}), len(ids))
        for (change, xy), ids in sorted(spots.items())
    ]  # fmt: skip
    return {"lines": lines, "points": points, "counts": d["change"].value_counts().to_dict()}


def _outlines(m: Any, codes: set[str]) -> None:
    """The outlines of the counties ``codes`` (the plans' service counties), named in their
    tooltips: the map's only background (no tiles: it opens offline)."""
    import folium

    from geodata.china import load_counties

    counties = load_counties(simplified=True)
    frame = counties[counties["code"].astype(str).isin(codes)]
    group = folium.FeatureGroup(name=html.escape(render(_LABELS["counties"]))).add_to(m)
    for code, name, geometry in zip(frame["code"], frame["name"], frame.geometry, strict=True):
        folium.GeoJson(
            geometry.__geo_interface__,
            style_function=lambda _: {"color": "#6b7280", "weight": 1.5, "fillColor": "#e5e7eb",
                                      "fillOpacity": 0.5},
            tooltip=html.escape(f"{name} ({code})"),
        ).add_to(group)  # fmt: skip


def render_moves(before: Plan, after: Plan, title: str | None = None) -> str:
    """The HTML of the map of the moves from ``before`` to ``after`` (module docstring)."""
    import folium
    from branca.element import Element

    from maps import csp, offline

    offline.assets_dir()  # fail early, with the installation hint
    layers = moves_layers(before, after)
    m = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25, minZoom=3, maxZoom=18)
    m.default_js = [(n, offline.asset_url(p)) for n, p in MOVES_JS]
    m.default_css = [(n, offline.asset_url(p)) for n, p in MOVES_CSS]
    # the outlines first: drawn under the moves
    _outlines(m, {str(c) for plan in (before, after) for c in plan.seats["county_code"]})
    groups = {
        k: folium.FeatureGroup(name=html.escape(render(_LABELS[k]))).add_to(m)
        for k in ("moved", "placed", "unplaced")
    }
    spots: list[tuple[float, float]] = []
    for a, b, tip, n in layers["lines"]:
        folium.PolyLine(
            [(a[1], a[0]), (b[1], b[0])],
            color=COLOURS["moved"],
            weight=min(3 + n, 12),
            opacity=1.0,
            tooltip=html.escape(tip),
        ).add_to(groups["moved"])
        folium.CircleMarker((b[1], b[0]), radius=4, color=COLOURS["moved"], fill=True).add_to(
            groups["moved"]
        )
        spots += [(a[1], a[0]), (b[1], b[0])]
    for change, lon, lat, tip, n in layers["points"]:
        folium.CircleMarker(
            (lat, lon),
            radius=min(5 + 2 * n, 20),
            color=COLOURS[change],
            fill=True,
            fill_opacity=0.6,
            tooltip=html.escape(tip),
        ).add_to(groups[change])
        spots.append((lat, lon))
    if not spots:
        where = townships(after)
        spots = [(lat, lon) for lon, lat, _ in where.values()]
    lats, lons = [s[0] for s in spots], [s[1] for s in spots]
    pad = 0.05
    m.fit_bounds([(min(lats) - pad, min(lons) - pad), (max(lats) + pad, max(lons) + pad)])
    folium.LayerControl(collapsed=False).add_to(m)
    heading = html.escape(title or render(_LABELS["title"]))
    legend = "".join(
        f'<li><span class="swatch swatch-{k}"></span>{html.escape(render(_LABELS[k]))}</li>'
        for k in ("moved", "placed", "unplaced")
    )
    if not (layers["lines"] or layers["points"]):
        legend += f"<li>{html.escape(render(_LABELS['none']))}</li>"
    swatches = "".join(f".swatch-{k}{{background:{c}}}" for k, c in COLOURS.items())
    root: Any = m.get_root()
    root.header.add_child(
        Element(
            f"<title>{heading}</title><style>.moves-legend{{position:absolute;z-index:1000;"
            "bottom:30px;right:10px;background:#fff;padding:6px 10px;border-radius:4px;"
            "font:13px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)}.moves-legend ul"
            "{margin:0;padding:0;list-style:none}.swatch{display:inline-block;width:12px;"
            f"height:12px;margin-right:6px;vertical-align:middle}}{swatches}</style>"
        )
    )
    root.html.add_child(
        Element(
            f'<div class="moves-legend" id="moves-legend"><b>{heading}</b><ul>{legend}</ul></div>'
        )
    )
    page = root.render()
    if page.count("<html>") == 1:
        page = page.replace("<html>", f'<html lang="{language()}">')
    return csp.with_meta(offline.inline(page))


def write_moves(before: Plan, after: Plan, out: Path, title: str | None = None) -> Path:
    """Write the map of the moves to ``out``; returns it."""
    out.write_text(render_moves(before, after, title), encoding="utf-8")
    return out
