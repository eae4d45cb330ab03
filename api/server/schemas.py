"""Request and response models of ``/api/v1`` (Create / Public families)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field


def _utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Time = Annotated[datetime, AfterValidator(_utc)]
JobState = Literal["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]


class Problem(BaseModel):
    """An error: ``detail`` names the problem; uploads add the full ``validation`` report."""

    detail: str
    validation: dict[str, Any] | None = None


class ScenarioCreated(BaseModel):
    """Answer to an upload: the new scenario's id and its validation report."""

    id: str
    validation: dict[str, Any]


class ScenarioPublic(BaseModel):
    """A stored scenario."""

    id: str
    name: str
    year: int
    synthetic: bool
    filename: str
    provinces: list[str] = Field(description="Service provinces (the scenario's scope).")
    tables: dict[str, int] = Field(description="Rows per table.")
    created_at: Time


class ScenarioDetail(ScenarioPublic):
    """A scenario with its validation report."""

    validation: dict[str, Any]


class JobCreate(BaseModel):
    """Options of a plan job."""

    time_limit: float | None = Field(
        default=None,
        gt=0,
        le=86_400,
        description="Solver seconds per stage; default PLANNER_JOB_TIME_LIMIT.",
    )
    previous_plan_id: str | None = Field(
        default=None,
        max_length=64,
        description="Re-plan from this earlier plan, moving as few volunteers as possible "
        "(like `planner plan --previous`).",
    )


class JobCreated(BaseModel):
    """Answer to starting a plan: the job to poll."""

    job_id: str


class JobPublic(BaseModel):
    """A plan job."""

    id: str
    scenario_id: str
    state: JobState
    progress: float = Field(description="Percent done (by stage).")
    stage: str
    plan_id: str | None
    previous_plan_id: str | None
    error: str | None
    time_limit: float
    attempt: int
    interruptions: int
    created_at: Time
    started_at: Time | None
    finished_at: Time | None
    log: list[str] = Field(description="The last lines of the job's log.")


class PlanPublic(BaseModel):
    """A finished plan and where its results are."""

    id: str
    scenario_id: str
    scenario_name: str
    job_id: str
    stages: list[str]
    created_at: Time
    links: dict[str, str]


class TablePage(BaseModel):
    """One page of a plan table (``total`` counts the rows after filtering)."""

    total: int
    offset: int
    limit: int
    items: list[dict[str, Any]]


class MapLink(BaseModel):
    """A signed map link that works without a key until ``expires`` (Unix seconds)."""

    url: str
    expires: int


class Health(BaseModel):
    """Liveness or readiness."""

    status: str
    checks: dict[str, str] = {}


class AuditPublic(BaseModel):
    """One event of the audit trail (no key or secret: the key's prefix only)."""

    model_config = {"from_attributes": True}

    id: int
    at: Time
    key_prefix: str | None
    role: str | None
    province: str | None
    address: str | None
    action: str
    object_id: str | None
    detail: str | None
    outcome: str
    status: int | None
