"""Interfaces: the ``planner`` command line and (later) the FastAPI service."""
