"""Reading, validating and projecting geometries and tables; builds planner problems."""

from geodata import shown as _shown  # noqa: F401  (installs the names of places in texts)
