"""The packaged Alembic migrations build exactly the tables the models declare."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from api.db.models import Base
from api.db.session import MIGRATIONS, upgrade


def test_migrations_match_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    upgrade(url)  # idempotent: a restart migrates nothing
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == []
    assert tables >= {"api_keys", "scenarios", "jobs", "plans", "alembic_version"}


def test_migrations_are_inside_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert MIGRATIONS.parent.name == "api"
    assert any((MIGRATIONS / "versions").glob("0001_*.py"))
