"""Road networks from OpenStreetMap extracts: build a graph folder
(:mod:`geodata.roads.build`), read it or a box of it (:mod:`geodata.roads.graph`), and drive
metres and seconds between points over it (:mod:`geodata.roads.matrix`)."""

from geodata.roads.build import BuildReport, Clip, build_roads, county_clip
from geodata.roads.graph import RoadGraph, RoadsError, read_edges, read_graph, read_manifest
from geodata.roads.matrix import (
    SNAP_LIMIT_M,
    RoadMatrix,
    point_matrix,
    road_matrix,
    road_paths,
    snap_points,
)
from geodata.roads.speeds import Speeds

__all__ = [
    "SNAP_LIMIT_M",
    "BuildReport",
    "Clip",
    "RoadGraph",
    "RoadMatrix",
    "RoadsError",
    "Speeds",
    "build_roads",
    "county_clip",
    "point_matrix",
    "read_edges",
    "read_graph",
    "read_manifest",
    "road_matrix",
    "road_paths",
    "snap_points",
]
