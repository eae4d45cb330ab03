"""Where the tests find the repository's files, wherever in ``tests/`` a test module sits."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
"""The ``tests/`` folder."""

REPO = TESTS.parent
"""The repository's root (``docs/``, ``benchmarks/``, ``maps/assets/``, ...)."""

OSM = TESTS / "data" / "osm"
"""Hand-made OpenStreetMap extracts with answers known by hand (the road-graph tests)."""

ARTIFACTS = TESTS / "artifacts"
"""Screenshots and pages the browser tests leave for a person to look at (ignored by git)."""
