"""The service's work without HTTP: each module raises :mod:`api.core.errors` classes."""
