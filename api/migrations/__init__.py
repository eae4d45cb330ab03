"""Alembic migration scripts, packaged so an installed service can migrate its database."""
