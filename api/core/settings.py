"""Settings of the HTTP service, read from ``PLANNER_*`` environment variables.

``PLANNER_DATA_DIR`` holds uploads, plan outputs and (by default) the SQLite database;
``PLANNER_DATABASE_URL`` overrides the database (e.g. ``postgresql+psycopg://user:pw@host/db``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Validated service settings (environment prefix ``PLANNER_``)."""

    model_config = SettingsConfigDict(env_prefix="PLANNER_", extra="ignore")

    data_dir: Path = Field(
        default=Path("planner-data"), description="Uploads, plan outputs, the SQLite file."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default a SQLite file in the data directory."
    )
    max_upload_bytes: int = Field(default=200 * 1024**2, gt=0, description="Largest upload.")
    max_unzipped_bytes: int = Field(
        default=2 * 1024**3, gt=0, description="Largest total uncompressed size of a zip."
    )
    max_rows: int = Field(default=2_000_000, gt=0, description="Most data rows in one table.")
    storage_quota_bytes: int = Field(
        default=2 * 1024**3,
        gt=0,
        description="Bytes of stored scenarios one key may keep (an upload over it: 507).",
    )
    max_line_bytes: int = Field(
        default=1024**2, gt=0, description="Longest line of an uploaded CSV table, in bytes."
    )
    max_cell_chars: int = Field(
        default=1_000, gt=0, description="Longest cell of an uploaded table, in characters."
    )
    max_columns: int = Field(default=200, gt=0, description="Most columns in one table.")
    workers: int = Field(default=2, ge=1, description="Plan jobs that run at the same time.")
    worker_nice: int = Field(
        default=10, ge=0, le=19, description="Niceness of worker processes: requests come first."
    )
    job_time_limit: float = Field(
        default=600.0, gt=0, description="Default solver seconds per stage of a plan job."
    )
    max_sweep_variants: int = Field(
        default=64, ge=1, description="Most variants of one sweep job (the base not counted)."
    )
    job_grace_seconds: float = Field(
        default=120.0, ge=0, description="Wall time beyond the time limit before a job is killed."
    )
    secret_key: str | None = Field(
        default=None, description="Signs map links; default a random key kept in the data dir."
    )
    map_link_seconds: int = Field(
        default=24 * 3600,
        gt=0,
        le=30 * 24 * 3600,
        description="Default lifetime of a signed map link (at most 30 days).",
    )
    base_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="The address people reach the service at (e.g. https://plans.example.org/); "
        "links in answers start with it. Default: links are relative (never taken from the "
        "request's Host header).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Addresses (comma-separated, or *) of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed. Default: none.",
    )
    key_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a key lookup is reused (a revocation's delay)."
    )
    job_lease_seconds: float = Field(
        default=15.0,
        gt=0,
        description="A running job whose server has not renewed it for this long is re-queued.",
    )
    poll_seconds: float = Field(default=0.5, gt=0, description="Job runner polling interval.")
    auto_migrate: bool = Field(default=True, description="Run migrations when the app starts.")
    max_body_bytes: int = Field(
        default=1024**2, gt=0, description="Largest request body other than an upload."
    )
    auth_failures_per_minute: int = Field(
        default=20,
        ge=1,
        description="Failed authentications per address or key prefix in a minute before 429.",
    )
    throttle_storage: str = Field(
        default="memory://",
        description="Where failed authentications are counted: memory:// or redis://host:port/db "
        "(shared by several servers).",
    )
    session_seconds: float = Field(
        default=8 * 3600, gt=0, description="How long a sign-in on the office pages lasts."
    )
    audit_flush_seconds: float = Field(
        default=0.2, gt=0, description="How often audit events are written to the database."
    )
    time_zone: str = Field(
        default="Asia/Shanghai",
        description="The offices' time zone: the pages show times in it, with its name.",
    )

    roads_dir: Path | None = Field(
        default=None,
        description="A folder of road graph folders (planner roads build), each known by its "
        "name: routing jobs may name one (option roads); GET /api/v1/roads lists them. "
        "Default: none, routes on the great-circle model.",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; expected e.g. Asia/Shanghai") from None
        return value

    def link(self, path: str) -> str:
        """A link to ``path`` (absolute, from the root of the app): under ``base_url`` when it
        is set, else the path itself."""
        if not self.base_url:
            return path
        return self.base_url.rstrip("/") + path

    @property
    def url(self) -> str:
        """The database URL in use."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'planner.db').resolve()}"

    def secret(self) -> bytes:
        """The key that signs map links (created once in the data dir when not configured)."""
        if self.secret_key:
            return self.secret_key.encode()
        import secrets

        path = self.data_dir / "secret.key"
        if not path.is_file():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_hex(32), encoding="ascii")
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text(encoding="ascii").strip().encode()
