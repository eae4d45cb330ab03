"""Leaflet and its plugins, inlined so that a map opens from a file with the network off.

Folium links Leaflet, jQuery, Bootstrap and its plugins from public CDNs; on a government
intranet such a page stays blank. The maps of westplan use only Leaflet and two plugins,
installed from the npm registry at set-up (with @mapbox/polyline, which decodes the
geometry): ``make assets`` runs ``maps/assets/fetch.py``, which downloads the tarballs
pinned by ``maps/assets/package-lock.json``, checks their integrity hashes and unpacks them
into ``maps/assets/node_modules`` as npm would, without npm; ``WESTPLAN_WEB_ASSETS`` points
elsewhere. The files are never copied into the repository.

:func:`inline` replaces each ``asset:`` link of the rendered page by the file's content
(images referenced by the style sheets become ``data:`` URIs) and refuses a page that still
links anything else, so no request can leave the file.
"""

from __future__ import annotations

import base64
import functools
import mimetypes
import os
import re
from html.parser import HTMLParser
from pathlib import Path

__all__ = [
    "ASSETS_ENV_VAR",
    "CSS",
    "JS",
    "AssetsMissing",
    "assets_dir",
    "inline",
]

ASSETS_ENV_VAR = "WESTPLAN_WEB_ASSETS"

_PACKAGE_DIR = Path(__file__).resolve().parent
_STATIC = _PACKAGE_DIR / "static"
_SCHEME = "asset:"

JS: tuple[tuple[str, str], ...] = (
    ("leaflet", "leaflet/dist/leaflet.js"),
    ("markercluster", "leaflet.markercluster/dist/leaflet.markercluster.js"),
    ("leaflet_search", "leaflet-search/dist/leaflet-search.min.js"),
    ("polyline", "@mapbox/polyline/src/polyline.js"),
    ("westplan", "westplan:westplan.js"),
)
"""Scripts of a map, in loading order: (name, path under the npm folder or ``westplan:``)."""

CSS: tuple[tuple[str, str], ...] = (
    ("leaflet_css", "leaflet/dist/leaflet.css"),
    ("markercluster_css", "leaflet.markercluster/dist/MarkerCluster.css"),
    ("markercluster_default_css", "leaflet.markercluster/dist/MarkerCluster.Default.css"),
    ("leaflet_search_css", "leaflet-search/dist/leaflet-search.min.css"),
    ("westplan_css", "westplan:westplan.css"),
)
"""Style sheets of a map, as :data:`JS`."""

_SCRIPT_TAG = re.compile(r'<script src="asset:([^"]+)"></script>')
_LINK_TAG = re.compile(r'<link rel="stylesheet" href="asset:([^"]+)"\s*/>')
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(?!data:|#)([^'")]+)\1\s*\)""")
_SOURCE_MAP = re.compile(r"^[ \t]*//# sourceMappingURL=.*$", re.MULTILINE)


class AssetsMissing(RuntimeError):
    """The npm packages of the maps are not installed."""


def assets_dir() -> Path:
    """The folder holding the installed npm packages (``node_modules``).

    Returns
    -------
    pathlib.Path
        ``$WESTPLAN_WEB_ASSETS`` if set, else ``maps/assets/node_modules``.

    Raises
    ------
    AssetsMissing
        If a package of :data:`JS` or :data:`CSS` is not there.
    """
    folder = Path(os.environ.get(ASSETS_ENV_VAR) or _PACKAGE_DIR / "assets" / "node_modules")
    for _, rel in JS + CSS:
        if not rel.startswith("westplan:") and not (folder / rel).is_file():
            raise AssetsMissing(
                f"map asset {rel} not found in {folder}; install the map assets with "
                f"`make assets` (python3 maps/assets/fetch.py) or set {ASSETS_ENV_VAR} to a "
                "node_modules folder holding leaflet, leaflet.markercluster, leaflet-search and @mapbox/polyline"
            )
    return folder


def asset_url(rel: str) -> str:
    """The placeholder URL of an asset in a rendered page, replaced by :func:`inline`."""
    return _SCHEME + rel


def _path(rel: str) -> Path:
    if rel.startswith("westplan:"):
        return _STATIC / rel.removeprefix("westplan:")
    return assets_dir() / rel


@functools.lru_cache(maxsize=32)
def _script(rel: str, mtime_ns: int) -> str:
    text = _SOURCE_MAP.sub("", _path(rel).read_text(encoding="utf-8"))
    if "</script" in text.lower():
        raise ValueError(f"{rel} contains '</script' and cannot be inlined")
    return text


@functools.lru_cache(maxsize=32)
def _style(rel: str, mtime_ns: int) -> str:
    path = _path(rel)
    text = _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))

    def data_uri(match: re.Match[str]) -> str:
        target = (path.parent / match.group(2)).resolve()
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        encoded = base64.b64encode(target.read_bytes()).decode("ascii")
        return f'url("data:{kind};base64,{encoded}")'

    text = _CSS_URL.sub(data_uri, text)
    if "</style" in text.lower():
        raise ValueError(f"{rel} contains '</style' and cannot be inlined")
    return text


def _mtime(rel: str) -> int:
    return _path(rel).stat().st_mtime_ns


def inline(html: str) -> str:
    """Replace every ``asset:`` script and style sheet link of a page by its content.

    Parameters
    ----------
    html : str
        A page rendered by folium whose links point at :func:`asset_url` placeholders.

    Returns
    -------
    str
        The page with the files inlined.

    Raises
    ------
    ValueError
        If the page still references an external resource (a script, style sheet, image
        or frame not inlined): such a page would not open offline.
    """
    html = _SCRIPT_TAG.sub(lambda m: f"<script>{_script(m[1], _mtime(m[1]))}</script>", html)
    html = _LINK_TAG.sub(lambda m: f"<style>{_style(m[1], _mtime(m[1]))}</style>", html)
    outside = external_links(html)
    if outside:
        raise ValueError(f"the map still links external resources: {outside[:5]}")
    return html


_LINKING = frozenset({"src", "href", "srcset", "poster", "data", "xlink:href", "background"})
"""Attributes whose value a browser fetches or follows."""


class _Links(HTMLParser):
    """Collects the linking attributes of the page's real tags: text, attribute values that
    merely contain ``src=`` (a county called ``src=x``) and the contents of script and style
    elements are not tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            target = (value or "").strip()
            if name in _LINKING and target and not target.startswith(("#", "data:")):
                self.found.append(f"<{tag} {name}={target!r}>")

    handle_startendtag = handle_starttag


def external_links(html: str) -> list[str]:
    """The page's tags that link something outside it (``src``, ``href`` and the like, other
    than ``#fragment`` and ``data:``), found by parsing the HTML as a browser would."""
    parser = _Links()
    parser.feed(html)
    parser.close()
    return parser.found
