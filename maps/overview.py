"""A static overview of a plan for reports: ``report.png`` drawn by GeoPandas and matplotlib.

Chinese text is set in Noto Sans CJK SC, the font file that the ``mplfonts`` package (a
dependency) ships, registered with matplotlib's font manager here, so that the picture
needs no font of the system's and shows no tofu on a server without Chinese fonts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from maps.payload import build_payload
from maps.plan import read_plan

__all__ = ["CJK_FONT_FILE", "cjk_font", "overview_figure", "write_png"]

log = logging.getLogger(__name__)

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
"""The font of the Chinese text, in the ``fonts`` folder of the ``mplfonts`` package."""


def cjk_font() -> str:
    """Register the CJK font with matplotlib and return its family name.

    Returns
    -------
    str
        The family name (``"Noto Sans CJK SC"``) to put first in ``font.family``.

    Raises
    ------
    RuntimeError
        If the ``mplfonts`` package or its font file is not installed.
    """
    from importlib.resources import files

    from matplotlib import font_manager

    try:
        path = Path(str(files("mplfonts") / "fonts" / CJK_FONT_FILE))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise RuntimeError(
            f"the font {CJK_FONT_FILE} of the mplfonts package is not installed; "
            "reinstall westplan's dependencies (make install, or pip install mplfonts)"
        )
    manager = font_manager.fontManager
    if not any(Path(f.fname) == path for f in manager.ttflist):
        manager.addfont(str(path))
    # A system with fonts-noto-cjk has a family of the same name (NotoSansCJK-Regular.ttc);
    # matplotlib takes the first of equally good fonts, so this file goes first.
    ours = [f for f in manager.ttflist if Path(f.fname) == path]
    if manager.ttflist[: len(ours)] != ours:
        manager.ttflist = ours + [f for f in manager.ttflist if Path(f.fname) != path]
        manager._findfont_cached.cache_clear()  # type: ignore[attr-defined]
    return str(font_manager.FontProperties(fname=path).get_name())


def write_png(plan_dir: Path, out: Path | None = None, province: str | None = None) -> Path:
    """Write :func:`overview_figure` as a PNG file.

    Parameters
    ----------
    plan_dir : pathlib.Path
        A plan folder.
    out : pathlib.Path, optional
        The PNG file; default ``plan_dir / "report.png"``.
    province : str, optional
        Six-digit province code to draw only that province.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    import matplotlib.pyplot as plt

    fig = overview_figure(plan_dir, province)
    target = Path(out) if out is not None else Path(plan_dir) / "report.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, bbox_inches="tight")
    plt.close(fig)
    log.info("overview written to %s", target)
    return target


def overview_figure(plan_dir: Path, province: str | None = None) -> Any:
    """Draw the plan's counties by quota fill rate, with outlines, posts, flows and routes.

    Parameters
    ----------
    plan_dir : pathlib.Path
        A plan folder.
    province : str, optional
        Six-digit province code to draw only that province.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (Agg backend); every text in it is set in :func:`cjk_font`, falling back
        to DejaVu Sans.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = read_plan(Path(plan_dir))
    data = build_payload(files, province)
    with plt.rc_context({"font.family": [cjk_font(), "DejaVu Sans"]}):
        return _draw(data)


def _draw(data: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    labels = data["labels"]
    fig, ax = plt.subplots(figsize=(10, 8), dpi=110)
    handles = []
    title = _title(data)
    if "counties" in data:
        counties = _frame(data["counties"], data["digits"], polygons=True)
        metric = next(iter(data["classes"]), None)
        if metric is not None:
            legend = data["classes"][metric]
            colors = np.array(legend["colors"] + ["#d9d9d9"])
            k = np.array([f["p"]["cls"][metric] for f in data["counties"]])
            counties.plot(ax=ax, color=colors[k], edgecolor="#555", linewidth=0.3)
            handles = [
                Patch(color=c, label=lab)
                for c, lab in zip(legend["colors"], legend["labels"], strict=True)
            ]
            handles.append(Patch(color="#d9d9d9", label=labels["no_data"]))
            title += f"\n{legend['title']}"
        else:
            counties.plot(ax=ax, color="#eeeeee", edgecolor="#555", linewidth=0.3)
    for key, color, width in (("prefectures", "#777", 0.5), ("provinces", "#222", 1.0)):
        if key in data:
            _frame(data[key], data["digits"], polygons=False).plot(
                ax=ax, color=color, linewidth=width
            )
    if "flows" in data:
        for r in data["flows"]["rows"]:
            ax.plot(
                [r[1], r[3]],
                [r[0], r[2]],
                color="#6a3d9a",
                alpha=0.4,
                linewidth=0.5 + 4 * np.sqrt(r[4] / max(data["flows"]["max"], 1)),
            )
    if "posts" in data:
        rows = data["posts"]["rows"]
        colors = np.array(data["posts"]["colors"])
        ax.scatter(
            [r[1] for r in rows],
            [r[0] for r in rows],
            s=2 if len(rows) > 500 else 14,
            c=colors[[r[5] for r in rows]],
            edgecolors="none",
            zorder=3,
        )
    if "routes" in data:
        R = data["routes"]
        for r in R["routes"]:
            line = np.asarray(r["line"])
            ax.plot(
                line[:, 1], line[:, 0], color=R["colors"][r["vehicle"]], linewidth=0.8, zorder=4
            )
    if "coverage" in data:
        for r in data["coverage"]["rows"]:
            if not r[7]:
                ax.scatter([r[1]], [r[0]], s=18, color="#d73027", zorder=5)
    (y0, x0), (y1, x1) = data["bounds"]
    pad = 0.03 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect(1 / np.cos(np.radians((y0 + y1) / 2)))
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=True)
    return fig


def _frame(features: list[dict[str, Any]], digits: int, polygons: bool) -> Any:
    """A GeoDataFrame of the page's encoded features (see maps.geometry.encode)."""
    import geopandas as gpd
    import polyline
    import shapely

    def ring(text: str) -> list[tuple[float, float]]:
        return [(x, y) for y, x in polyline.decode(text, digits)]

    geoms = []
    for f in features:
        parts = [[ring(r) for r in part] for part in f["g"]]
        if polygons:
            geoms.append(shapely.MultiPolygon([(p[0], p[1:]) for p in parts]))
        else:
            geoms.append(shapely.MultiLineString([r for p in parts for r in p]))
    return gpd.GeoDataFrame(geometry=geoms, crs="EPSG:4326")


def _title(data: dict[str, Any]) -> str:
    t = data["title"]
    flag = f" · {data['labels']['synthetic']}" if t["synthetic"] else ""
    return f"{t['scenario']} {t['year']} · {t['area']}{flag}"
