"""The HTTP service: ``create_app`` builds the FastAPI app (routes -> services -> db/files)."""

from api.server.app import create_app

__all__ = ["create_app"]
