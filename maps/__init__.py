"""Folium rendering of plans (imports folium lazily).

``render_map`` / ``write_map`` build the interactive, offline ``map.html`` of a plan folder;
``write_png`` the static ``report.png`` overview for documents and e-mails.
"""

from __future__ import annotations

from maps.overview import write_png
from maps.plan import MapInputError
from maps.render import render_map, write_map

__all__ = ["MapInputError", "render_map", "write_map", "write_png"]
