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
    """Answer to an upload: the new scenario's id and its validation report; for bytes
    uploaded before, the scenario the key already has and ``existing`` true."""

    id: str
    validation: dict[str, Any]
    existing: bool = Field(
        default=False,
        description="True when the same bytes were uploaded before (nothing new stored).",
    )


class ScenarioDeleted(BaseModel):
    """Answer to a deletion: what went with the scenario."""

    id: str
    jobs: int = Field(description="Jobs of the scenario removed.")
    plans: int = Field(description="Plans made from it, removed with it.")
    sweeps: int = Field(description="Sweeps made from it, removed with it.")
    bytes: int = Field(description="Bytes of files removed.")


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


class PinIn(BaseModel):
    """One decision of the office (a row of ``pins.csv``)."""

    action: Literal["assign", "forbid", "close", "exclude"]
    applicant_id: str = Field(default="", max_length=64)
    post_id: str = Field(default="", max_length=64)


class JobCreate(BaseModel):
    """Options of a plan job."""

    time_limit: float | None = Field(
        default=None,
        gt=0,
        le=86_400,
        allow_inf_nan=False,
        description="Solver seconds per stage; default PLANNER_JOB_TIME_LIMIT.",
    )
    previous_plan_id: str | None = Field(
        default=None,
        max_length=64,
        description="Re-plan from this earlier plan, moving as few volunteers as possible "
        "(like `planner plan --previous`).",
    )
    pins: list[PinIn] | None = Field(
        default=None,
        max_length=10_000,
        description="The office's decisions (like `planner plan --pins`): the plan is the "
        "certified optimum under them, and its summary gives their price.",
    )
    baseline_plan_id: str | None = Field(
        default=None,
        max_length=64,
        description="The plan the pins were set on (like `--baseline`); default: the plan "
        "without them is solved first.",
    )
    roads: str | None = Field(
        default=None,
        max_length=100,
        description="Route on this road network, a name of `GET /api/v1/roads` (like "
        "`planner route --roads`); default: the scenario's `[routing] roads` if the server "
        "has it, else the great-circle model. Ignored when the plan has no routing stage.",
        examples=["huaihua-synthetic"],
    )


class SweepCreate(BaseModel):
    """What a sweep job varies (as ``planner sweep --vary``) and how long each plan may take."""

    vary: list[Annotated[str, Field(max_length=2000)]] = Field(
        max_length=20,
        description="KEY=V1,V2,...: rules.KEY or weights.KEY of scenario.toml, or "
        "quota_scale.PROVINCE (e.g. quota_scale.520000=1.1); the sweep plans the base and "
        "every combination (at most PLANNER_MAX_SWEEP_VARIANTS).",
        examples=[["rules.undergraduate_min_share=0.8,0.85", "weights.preference_rank=5,10"]],
    )
    time_limit: float | None = Field(
        default=None,
        gt=0,
        le=86_400,
        allow_inf_nan=False,
        description="Solver seconds for each plan of the sweep; default PLANNER_JOB_TIME_LIMIT.",
    )


class JobCreated(BaseModel):
    """Answer to starting a plan or a sweep: the job to poll."""

    job_id: str


class JobPublic(BaseModel):
    """A job: a plan or a sweep."""

    id: str
    scenario_id: str
    kind: Literal["plan", "sweep"]
    state: JobState
    progress: float = Field(description="Percent done (by stage).")
    stage: str
    plan_id: str | None
    sweep_id: str | None = Field(description="The sweep a finished sweep job made.")
    vary: list[str] | None = Field(description="What a sweep job varies.")
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


class SweepPublic(BaseModel):
    """A finished sweep and where its results are."""

    id: str
    scenario_id: str
    scenario_name: str
    job_id: str
    variants: int = Field(description="Variants planned besides the base.")
    created_at: Time
    links: dict[str, str]


class SweepDetail(SweepPublic):
    """A sweep: what was varied and ``sweep.csv`` as rows (the base first, as variant 0)."""

    vary: list[dict[str, Any]] = Field(description="Each key varied and its values.")
    time_limit: float = Field(description="Solver seconds of each plan.")
    gap_tolerance: float
    seconds: float = Field(description="Wall time of the sweep.")
    all_optimal: bool = Field(description="Every plan certified optimal within the tolerance.")
    rows: list[dict[str, Any]]


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
    count: int = Field(
        default=1,
        description="Requests the event stands for: refusals with 429 are one row per address "
        "and minute, counted here.",
    )


class RoadNetworkPublic(BaseModel):
    """A road network of the server (a graph folder of ``PLANNER_ROADS_DIR``)."""

    name: str = Field(description="What a job's `roads` option names.")
    extract: str | None = Field(description="The OpenStreetMap extract it was built from.")
    extract_timestamp: str | None = Field(
        description="The extract's timestamp (its header's; null when it has none)."
    )
    synthetic: bool = Field(description="A synthetic network (`planner roads synthetic`).")
    edges: int | None = Field(description="Road segments.")
    elevation: bool = Field(description="Built with an elevation model (slope factors).")
