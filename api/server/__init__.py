"""The HTTP service: :func:`api.server.app.create_app` builds the FastAPI app (routes ->
services -> db/files).

This package module imports nothing, so that any of its modules (``api.server.deps`` reads
``api.server.store``) can be imported on its own.
"""
