"""The HTTP service: :func:`api.server.app.create_app` builds the FastAPI app (handlers ->
services of :mod:`api.services` -> db/files).

This package module imports nothing, so that any of its modules (``api.server.deps`` reads
``api.services.plans``) can be imported on its own.
"""
