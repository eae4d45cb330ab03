"""The road networks an office may route on: the graph folders (``planner roads build``,
``planner roads synthetic``) the administrator keeps in ``PLANNER_ROADS_DIR``, each known by
its folder's name.

Clients name a network, never a path: :func:`resolve` turns a name into the folder only on
the server, and refuses a name that is not one of :func:`networks` (a path such as ``../x``
or ``/etc`` never is one). docs/routing.md "Roads" says how an office gets there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.core.errors import Invalid
from planner.i18n import N_, Text

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
"""A network's name: its folder's, letters, digits, ``.``, ``_`` and ``-`` (no ``/``, not
starting with a dot)."""


@dataclass(frozen=True, slots=True)
class RoadNetwork:
    """One graph folder of ``PLANNER_ROADS_DIR`` and what its manifest says."""

    name: str
    extract: str | None
    extract_timestamp: str | None
    synthetic: bool
    edges: int | None
    elevation: bool

    def public(self) -> dict[str, Any]:
        """The answer of ``GET /api/v1/roads`` for this network."""
        return {
            "name": self.name,
            "extract": self.extract,
            "extract_timestamp": self.extract_timestamp,
            "synthetic": self.synthetic,
            "edges": self.edges,
            "elevation": self.elevation,
        }


def networks(roads_dir: Path | None) -> list[RoadNetwork]:
    """The graph folders of ``roads_dir`` (by name; none when it is not set or missing); a
    folder without a readable manifest of this format is left out."""
    from geodata.roads import RoadsError, read_manifest

    if roads_dir is None or not Path(roads_dir).is_dir():
        return []
    found = []
    for folder in sorted(Path(roads_dir).iterdir()):
        if not NAME.match(folder.name) or not folder.is_dir():
            continue
        try:
            manifest = read_manifest(folder)
        except (RoadsError, OSError, ValueError):
            continue
        extract = manifest.get("extract") or {}
        counts = manifest.get("counts") or {}
        found.append(
            RoadNetwork(
                name=folder.name,
                extract=extract.get("name"),
                extract_timestamp=extract.get("timestamp"),
                synthetic=bool(manifest.get("synthetic", False)),
                edges=counts.get("edges"),
                elevation=manifest.get("elevation") is not None,
            )
        )
    return found


UNKNOWN = N_("road network {name!r} is not available here; expected one of: {available}")
"""The refusal of a name that is not a network of ``PLANNER_ROADS_DIR``."""
NONE_HERE = N_("none (the service has no road networks: PLANNER_ROADS_DIR)")
"""What :data:`UNKNOWN` lists when there is no network."""


def resolve(roads_dir: Path | None, name: str) -> Path:
    """The graph folder of the network ``name``.

    Raises
    ------
    Invalid
        When ``name`` is not one of :func:`networks` (a path, an unknown name, no
        ``PLANNER_ROADS_DIR``), naming it and the available ones.
    """
    known = {n.name for n in networks(roads_dir)}
    if roads_dir is None or not NAME.match(name) or name not in known:
        available = ", ".join(sorted(known)) if known else Text(NONE_HERE, {})
        raise Invalid(UNKNOWN, extra={"available": sorted(known)}, name=name, available=available)
    return Path(roads_dir) / name


OUTSIDE = N_(
    "scenario.toml [routing] roads = {value!r}: on the service a scenario names no road "
    "graph outside its own files; choose one of the service's road networks for the job "
    "(the option roads) instead"
)
"""The refusal of a scenario whose ``[routing] roads`` leaves its own folder."""


def confined(source: Path) -> None:
    """Refuse a stored scenario whose ``scenario.toml`` ``[routing] roads`` points outside
    its own folder (an absolute path, ``../``): on the server only the administrator's
    networks (:func:`resolve`) are routed on; a graph folder uploaded with the scenario is
    its own.

    Raises
    ------
    Invalid
        Naming the value.
    """
    import tomllib

    toml = Path(source) / "scenario.toml"
    if not toml.is_file():
        return
    try:
        doc = tomllib.loads(toml.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return  # the scenario's loader names the problem
    section = doc.get("routing")
    value = section.get("roads") if isinstance(section, dict) else None
    if not isinstance(value, str) or not value:
        return
    root = Path(source).resolve()
    if not (root / value).resolve().is_relative_to(root):
        raise Invalid(OUTSIDE, value=value)
