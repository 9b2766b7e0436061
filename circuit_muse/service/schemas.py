"""Request and response bodies of the HTTP API (they make the OpenAPI schema at /openapi.json)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobState = Literal["queued", "running", "passed", "failed", "cancelled", "interrupted"]


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable, e.g. queue_full, not_found, invalid_request")
    message: str = Field(description="what went wrong and what to do about it")


class ErrorBody(BaseModel):
    error: ErrorDetail


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, description="what to build, in plain English")
    model: str | None = Field(None, description="must be the served model's name, if given")
    rounds: int | None = Field(None, ge=1, le=100, description="repair rounds (capped by the server's budget)")
    samples: int | None = Field(None, ge=1, le=100, description="candidates per round (capped by the budget)")
    temperature: float | None = Field(None, ge=0, le=2)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    max_seconds: float | None = Field(None, gt=0, le=86400, description="wall budget (capped by the server)")
    max_new_tokens: int = Field(1536, ge=16, le=16384)
    task: Literal["generate", "debug", "assertion", "explain"] | None = None
    testbench: str | None = Field(None, description="a self-checking Verilog bench to use instead of the "
                                                     "matched suite (untrusted: screened before use)")
    testbench_name: str = Field("tb.sv", pattern=r"^[A-Za-z0-9_.-]{1,64}$")


class GenerateRequest(BaseModel):
    """The original frontend's body: {"prompt": ...} or {"instruction": ...}; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    prompt: str | None = None
    instruction: str | None = None
    rounds: int | None = Field(None, ge=1, le=100)
    samples: int | None = Field(None, ge=1, le=100)


class GenerateResponse(BaseModel):
    output: str = Field(description="the Verilog (the field the original frontend reads)")
    passed: bool
    level: str | None = Field(description="functional (simulated) or static (lint/synth only)")
    rounds: int
    report: dict[str, Any] | None
    job_id: str
    state: JobState


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verilog: str = Field(min_length=1, description="the design (raw model text is fine)")
    suite: str | None = Field(None, description="FAMILY or FAMILY/VARIANT (see GET /suites)")
    params: dict[str, int] = Field(default_factory=dict)
    reference: str | None = Field(None, description="a reference design to compare against")
    testbench: str | None = Field(None, description="a self-checking Verilog testbench (untrusted)")
    testbench_name: str = Field("tb.sv", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    top: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
    simulator: Literal["icarus", "verilator"] = "icarus"


class JobInfo(BaseModel):
    id: str
    state: JobState
    prompt: str
    settings: dict[str, Any]
    created: float
    started: float | None
    finished: float | None
    events: int = Field(description="id of the latest event")
    result: dict[str, Any] | None = None
    error: str | None = None


class JobList(BaseModel):
    jobs: list[JobInfo]


class Health(BaseModel):
    status: Literal["ok"]
    model: str
    tools: dict[str, str]
    queue_depth: int
    running: int
    workers: int


class ServerInfo(BaseModel):
    model: str
    auth: bool
    limits: dict[str, Any]
    examples: list[str]


class SuiteList(BaseModel):
    suites: list[dict[str, Any]]
