"""Mobile service-vehicle routing (planning model section 3) and the VRP benchmark mode."""
