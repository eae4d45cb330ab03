"""Interfaces: the ``planner`` command line (:mod:`api.cli`), the stage runner they share
(:mod:`api.core.stages`) and the HTTP service (:mod:`api.server`)."""
