"""``planner keys`` (create, list, revoke) and the key it prints working against the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app
from api.server.app import create_app
from api.settings import Settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PLANNER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PLANNER_DATABASE_URL", raising=False)
    return tmp_path / "data"


def test_keys_create_list_revoke(data_dir: Path) -> None:
    cli = CliRunner()
    made = cli.invoke(app, ["keys", "create", "--role", "province:520000", "--name", "贵州"])
    assert made.exit_code == 0, made.output
    key = made.output.strip().splitlines()[-1]
    assert key.startswith("wp_")
    prefix = key.split("_")[1]
    assert "贵州" in cli.invoke(app, ["keys", "list"]).output
    with TestClient(create_app(Settings(data_dir=data_dir, key_cache_seconds=0))) as client:
        ok = client.get("/api/v1/scenarios", headers={"X-API-Key": key})
        assert ok.status_code == 200 and ok.json() == []
        revoked = cli.invoke(app, ["keys", "revoke", prefix])
        assert revoked.exit_code == 0
        assert client.get("/api/v1/scenarios", headers={"X-API-Key": key}).status_code == 401
    stored = b"".join(f.read_bytes() for f in data_dir.glob("planner.db*"))
    assert key.encode() not in stored and prefix.encode() in stored  # only the digest


def test_keys_refuse_a_bad_role_or_prefix(data_dir: Path) -> None:
    cli = CliRunner()
    bad = cli.invoke(app, ["keys", "create", "--role", "province:52"])
    assert bad.exit_code == 2
    assert "province:CODE" in bad.output
    unknown = cli.invoke(app, ["keys", "revoke", "nothere"])
    assert unknown.exit_code == 2
    assert "no key with prefix" in unknown.output
