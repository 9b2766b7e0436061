"""Options for one verify() call: which stages run, what they use, and the limits they run under."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import InputError
from ..tools.sandbox import Limits, MiB
from .screen import ScreenLimits

WAVES_ENV = "CIRCUIT_MUSE_WAVES_DIR"


def default_waves_dir() -> str:
    """Where failing runs' waveforms are kept unless the caller says otherwise."""
    return os.environ.get(WAVES_ENV) or os.path.join(tempfile.gettempdir(), "circuit_muse-waves")


STAGES = ("extract", "screen", "parse", "lint", "synth", "simulate")
LINTERS = ("iverilog", "verilator")
SIMULATORS = ("icarus", "verilator")


@dataclass(frozen=True)
class VerifyOptions:
    """Strict options: unknown names raise InputError instead of being ignored."""

    continue_on_fail: bool = False
    stages: tuple[str, ...] = STAGES
    linters: tuple[str, ...] = LINTERS
    simulator: str = "icarus"
    tool_limits: Limits = Limits(wall_s=30, cpu_s=30, address_space=2048 * MiB, file_size=16 * MiB)
    sim_limits: Limits = Limits(wall_s=20, cpu_s=20, address_space=4096 * MiB, file_size=64 * MiB,
                                output_cap=1 * MiB)
    screen_limits: ScreenLimits = ScreenLimits()
    allow_assertions: bool = False
    seed: int = 1
    random_cycles: int = 200
    max_mismatches: int = 8
    keep_vcd_dir: str | None = field(default_factory=lambda: default_waves_dir())
    params: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = [s for s in self.stages if s not in STAGES]
        if bad:
            raise InputError(f"unknown stage(s) {bad}; choose from {list(STAGES)}")
        bad = [t for t in self.linters if t not in LINTERS]
        if bad:
            raise InputError(f"unknown linter(s) {bad}; choose from {list(LINTERS)}")
        if self.simulator not in SIMULATORS:
            raise InputError(f"unknown simulator {self.simulator!r}; choose from {list(SIMULATORS)}")

    @classmethod
    def from_mapping(cls, m: dict[str, Any] | None) -> VerifyOptions:
        if not m:
            return cls()
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(m) - known)
        if unknown:
            raise InputError(f"unknown verify option(s) {unknown}; known options: {sorted(known)}")
        m = dict(m)
        for key in ("stages", "linters"):
            if key in m:
                m[key] = tuple(m[key])
        return cls(**m)

    def fingerprint(self) -> str:
        d = asdict(self)
        d.pop("keep_vcd_dir", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]
