"""The service's core: what the HTTP service and the command line share, without HTTP.

Settings, API keys, office sessions, the throttle, the audit trail, the backup, and the
domain errors the services raise (:mod:`api.core.errors`). Nothing here imports FastAPI or
Starlette; the HTTP layer (:mod:`api.server`) maps the errors to answers in one handler.
"""
