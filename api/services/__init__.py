"""The service's services: what the HTTP handlers (and the job runner) ask of the service.

Each takes a SQLAlchemy session (or the sessionmaker), the settings and the caller
(:class:`~api.core.api_keys.Principal`) and raises :mod:`api.core.errors` classes, never an
HTTP status; :data:`api.server.problems.STATUS` maps those to statuses in one place. Nothing
here imports FastAPI or Starlette (an import-linter contract keeps it so).

This package module imports nothing, so that each service can be imported on its own.
"""
