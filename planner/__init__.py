"""The optimisation core: problem data, allocation, routing and results.

Imports numpy and OR-Tools only; never geopandas, folium or FastAPI.
"""

__version__ = "0.1.0"
