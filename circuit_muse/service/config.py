"""The service's settings and limits, in one place (the CLI fills them from flags and environment)."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

TOKEN_ENV = "CIRCUIT_MUSE_TOKEN"


def tokens_from_env() -> tuple[str, ...]:
    """CIRCUIT_MUSE_TOKEN holds one bearer token, or several separated by commas (one per client)."""
    raw = os.environ.get(TOKEN_ENV, "")
    return tuple(t.strip() for t in raw.split(",") if t.strip())


def owner_of(token: str | None) -> str:
    """Jobs are owned by a token's hash (the token itself is never stored)."""
    return "anonymous" if token is None else "t-" + hashlib.sha256(token.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ServiceConfig:
    model: str | None = None                   # model spec (None: $CIRCUIT_MUSE_MODEL)
    db_path: str = "circuit_muse-service.sqlite3"
    workers: int = 2                           # jobs that run at once
    max_queue: int = 16                        # jobs that may wait; more get 429 + Retry-After
    verify_concurrency: int = 2                # /verify requests checked at once
    tokens: tuple[str, ...] = ()               # bearer tokens; empty: no auth
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1 << 20              # any request body
    max_prompt_chars: int = 8000
    max_source_chars: int = 200_000            # Verilog, reference or testbench text in /verify
    max_rounds: int = 6                        # per-job budget
    max_samples: int = 4
    max_job_seconds: float = 300.0
    default_rounds: int = 4
    default_samples: int = 2
    examples: tuple[str, ...] = field(default=())
