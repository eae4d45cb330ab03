"""``planner keys`` (create, list, revoke) and the key it prints working against the app; the
service's commands (serve, keys, audit, backup, restore) in zh-CN and en."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app
from api.core.settings import Settings
from api.server.app import create_app


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


# --- the service's commands in both languages --------------------------------------------------

PLANNER = str(Path(sys.executable).with_name("planner"))
CJK = re.compile(r"[\u4e00-\u9fff]")
SERVICE_COMMANDS = (
    ("serve",),
    ("keys",),
    ("keys", "create"),
    ("keys", "list"),
    ("keys", "revoke"),
    ("audit",),
    ("backup",),
    ("restore",),
)


def _planner(*args: str, data_dir: Path, lang: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
    env |= {"PLANNER_DATA_DIR": str(data_dir), "PLANNER_LANG": lang, "COLUMNS": "200"}
    return subprocess.run([PLANNER, *args], env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_service_commands_speak_the_users_language(tmp_path: Path, lang: str) -> None:
    """Help and output of serve, keys, audit, backup and restore in the language chosen
    (PLANNER_LANG here; ``--lang`` anywhere on the line wins)."""
    data = tmp_path / "data"
    chinese = lang == "zh-CN"
    for command in SERVICE_COMMANDS:
        shown = _planner(*command, "--help", data_dir=data, lang=lang)
        assert shown.returncode == 0, shown.stderr
        # the command's own description (the first text under the usage line) is in it
        lines = [ln.strip() for ln in shown.stdout.splitlines() if ln.strip()]
        described = lines[1]
        assert lines[0].startswith("Usage:") and not described.startswith("╭"), lines[:3]
        assert bool(CJK.search(described)) == chinese, (command, described)
    made = _planner("keys", "create", "--role", "national", "--name", "x", data_dir=data, lang=lang)
    assert made.returncode == 0, made.stderr
    told, key = made.stdout.strip().splitlines()[-2:]
    assert key.startswith("wp_")  # the key alone on the last line, for scripts
    assert ("已创建" in told) == chinese and ("created" in told) != chinese
    listed = _planner("keys", "list", data_dir=data, lang=lang)
    assert ("前缀" in listed.stdout) == chinese and ("prefix" in listed.stdout) != chinese
    trail = _planner("audit", "--since", "1h", data_dir=data, lang=lang)
    header = trail.stdout.splitlines()[0]
    assert header.split()[0] == ("时间（UTC）" if chinese else "time")
    assert ("个事件" in trail.stderr) == chinese
    assert "key-create" in trail.stdout  # the machine words stay as stored
    bad = _planner("audit", "--since", "yesterday", data_dir=data, lang=lang)
    assert bad.returncode == 2 and ("应为" in bad.stderr) == chinese and "yesterday" in bad.stderr
    saved = _planner("backup", str(tmp_path / "backup"), data_dir=data, lang=lang)
    assert saved.returncode == 0, saved.stderr
    assert ("已备份到" in saved.stdout) == chinese
    refused = _planner("restore", str(tmp_path / "backup"), data_dir=data, lang=lang)
    assert refused.returncode == 1 and ("请恢复到" in refused.stdout + refused.stderr) == chinese
    other = "en" if chinese else "zh-CN"  # --lang wins over PLANNER_LANG
    flipped = _planner("keys", "list", "--lang", other, data_dir=data, lang=lang)
    assert ("前缀" in flipped.stdout) != chinese
