"""``python -m api.cli``: the ``planner`` command."""

from api.cli import main

main()
