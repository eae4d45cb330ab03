"""Folium rendering of plans (imports folium lazily)."""
