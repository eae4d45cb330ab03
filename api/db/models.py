"""Tables of the service: API keys, scenarios, jobs (plans and sweeps), plans and sweeps, and
the office's pending decisions on a plan.

Files live in the data directory (``scenarios/ID/`` holds an upload, ``plans/ID/`` a plan's
outputs, ``sweeps/ID/`` a sweep's, ``jobs/ID.log`` a job's log); the rows say what exists
and who may see it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """The current time in UTC (stored timezone-aware)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class ApiKey(Base):
    """An API key: only its SHA-256 digest is stored; ``prefix`` identifies it in listings."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    """``national``, ``province`` or ``viewer``."""
    province: Mapped[str | None] = mapped_column(String(6), nullable=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ScenarioRow(Base):
    """An uploaded, validated scenario; ``provinces`` is its scope (service provinces)."""

    __tablename__ = "scenarios"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    synthetic: Mapped[bool] = mapped_column(default=False)
    filename: Mapped[str] = mapped_column(String(300))
    provinces: Mapped[str] = mapped_column(String(400))
    """Comma-separated province codes of the counties the scenario serves."""
    tables: Mapped[dict[str, int]] = mapped_column(JSON)
    validation: Mapped[dict[str, object]] = mapped_column(JSON)
    """The validation report with its messages as templates and fields
    (:meth:`planner.issues.Report.to_data`), read in each reader's language."""
    stored_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Bytes its folder keeps on disk (counted against its key's quota); None for a scenario
    stored before this was recorded (measured when its key's usage is next counted)."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    content_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    """SHA-256 of the uploaded bytes (the zip or workbook; files sent one by one: their names
    and bytes), so the same upload is recognised; NULL for scenarios stored before."""


class JobRow(Base):
    """A job (a plan or a sweep); ``attempt`` fences writes by a worker of an earlier attempt."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenarios.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="plan", server_default="plan")
    """``plan`` (the stages into a plan folder) or ``sweep`` (the variants into a sweep
    folder)."""
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """What the kind needs beyond the columns: a sweep's ``vary`` (the ``KEY=V1,V2`` texts)
    and ``plans`` (the base and its variants)."""
    state: Mapped[str] = mapped_column(String(16), index=True, default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    time_limit: Mapped[float] = mapped_column(Float)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    interruptions: Mapped[int] = mapped_column(Integer, default=0)
    plan_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sweep_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The sweep a finished sweep job made."""
    previous_plan_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """A re-plan: the earlier plan whose volunteers should move as little as possible."""
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    """The language of the plan's files (``zh-CN``, ``en``): that of the person who started
    it; ``None`` for the server's default."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """Renewed by the server running the job; a stale one means that server is gone."""


class PlanRow(Base):
    """A finished plan: its outputs are in ``plans/ID/`` of the data directory."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenarios.id"), index=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), unique=True)
    stages: Mapped[str] = mapped_column(String(100))
    """Comma-separated stages that ran: ``allocation``, ``routing``."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SweepRow(Base):
    """A finished sweep: ``sweep.csv``, ``sweep_counties.csv``, ``sweep.json`` and
    ``sweep.html`` are in ``sweeps/ID/`` of the data directory."""

    __tablename__ = "sweeps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenarios.id"), index=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), unique=True)
    variants: Mapped[int] = mapped_column(Integer)
    """Variants planned besides the base."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebSession(Base):
    """A signed-in browser (the office pages): only the SHA-256 digest of the cookie's token
    is stored; the session ends at ``expires_at``, at sign-out, or when its key is revoked."""

    __tablename__ = "web_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuditRow(Base):
    """One audited action: who (key prefix and role, never the key), from where, what, result."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    key_prefix: Mapped[str | None] = mapped_column(String(16), nullable=True)
    role: Mapped[str | None] = mapped_column(String(24), nullable=True)
    """``national``, ``province:CODE``, ``viewer``, ``link`` (a signed map link), ``cli``."""
    province: Mapped[str | None] = mapped_column(String(6), nullable=True, index=True)
    """The province of the key that acted (province keys)."""
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(24), index=True)
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    """``ok``, ``refused`` (an answer 4xx) or ``error`` (5xx)."""
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """How many requests the row stands for: 1, except for ``throttled``, of which one row
    per address and minute counts every refusal (``at`` is the minute's start)."""


class PendingDecision(Base):
    """One decision of the office on a plan, not yet planned with (issue 25): an assign,
    forbid, close or exclude pin (``pins.csv``'s columns). A plan's pending set survives
    reloads and restarts; it goes with the plan (``ON DELETE CASCADE``)."""

    __tablename__ = "pending_decisions"
    __table_args__ = (UniqueConstraint("plan_id", "action", "applicant_id", "post_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    """``assign``, ``forbid``, ``close`` or ``exclude``."""
    applicant_id: Mapped[str] = mapped_column(String(64), default="")
    post_id: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
