"""``GET /api/v1/roads``: the road networks of the server (``PLANNER_ROADS_DIR``) that a
routing job may name in its ``roads`` option (:mod:`api.core.roads`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.core import roads
from api.server.deps import AuthFirst, OfficeDep, SettingsDep
from api.server.schemas import Problem, RoadNetworkPublic

roads_api = APIRouter(prefix="/api/v1", route_class=AuthFirst, tags=["roads"])


@roads_api.get(
    "/roads",
    response_model=list[RoadNetworkPublic],
    responses={
        401: {"model": Problem, "description": "No key, or an unknown or revoked key."},
        403: {"model": Problem, "description": "The key's role does not allow this."},
    },
)
def list_roads(settings: SettingsDep, who: OfficeDep) -> list[dict[str, Any]]:
    """The road networks a plan job may route on (its option ``roads``), by name, with the
    extract each was built from and its timestamp; empty when the server has none."""
    return [n.public() for n in roads.networks(settings.roads_dir)]
