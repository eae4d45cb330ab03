"""Reading, validating and projecting geometries and tables; builds planner problems."""
