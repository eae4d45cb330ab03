"""Persistence of the HTTP service: SQLAlchemy 2 models, engine and migrations."""
