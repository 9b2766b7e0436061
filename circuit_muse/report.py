"""Structured results of a verification run: diagnostics, stage results, the report and its summary."""
from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Category(str, enum.Enum):
    """One failure class per report, after VerilogEval v2's error classes."""

    PASS = "pass"
    NO_CODE = "no_code"          # extract found no Verilog
    UNSAFE = "unsafe"            # safety screen rejected a construct
    SYNTAX = "syntax"
    UNDECLARED = "undeclared"
    INTERFACE = "interface"      # ports/params/module name differ from the contract
    WIDTH = "width"
    LATCH = "latch"
    MULTIDRIVER = "multidriver"
    COMB_LOOP = "comb_loop"
    UNDRIVEN = "undriven"
    LINT = "lint"                # any other lint error
    SYNTH = "synth"              # any other synthesis check failure
    TIMEOUT = "timeout"
    CRASH = "crash"              # simulator died, or no verdict was produced
    RESOURCE = "resource"        # output flood, memory or file-size limit
    MISMATCH = "mismatch"        # simulated behaviour differs from the testbench's expectation
    TESTBENCH = "testbench"      # the testbench itself failed to build (not the design's fault)


@dataclass
class Diagnostic:
    """One message from a tool, normalised: where, how bad, which rule, what, and the offending line."""

    severity: Severity
    message: str
    tool: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    code: str | None = None
    source_line: str | None = None
    category: Category | None = None

    def location(self) -> str:
        loc = self.file or "<design>"
        if self.line is not None:
            loc += f":{self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        return loc

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        d["category"] = self.category.value if self.category else None
        return d


@dataclass
class Mismatch:
    """One failing check from simulation: when, which signal, what went in, what was expected, what came out."""

    test: str | None = None
    time: str | None = None
    cycle: int | None = None
    signal: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    expected: str | None = None
    got: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SimulationDetail:
    """What the simulate stage learned: counts, the first failures, and where the waveform of a failing run is."""

    testbench_kind: str
    simulator: str
    tests: int = 0
    failures: int = 0
    samples: int = 0
    mismatched_samples: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    vcd_path: str | None = None
    log_tail: str = ""

    @property
    def pass_fraction(self) -> float:
        if self.samples:
            return max(0.0, 1.0 - self.mismatched_samples / self.samples)
        if self.tests:
            return max(0.0, 1.0 - self.failures / self.tests)
        return 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["pass_fraction"] = self.pass_fraction
        return d


@dataclass
class StageResult:
    """The outcome of one stage: pass/fail, duration, diagnostics and stage-specific facts."""

    name: str
    passed: bool
    duration_s: float
    diagnostics: list[Diagnostic] = field(default_factory=list)
    category: Category | None = None
    info: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False
    simulation: SimulationDetail | None = None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "skipped": self.skipped,
            "duration_s": round(self.duration_s, 6),
            "category": self.category.value if self.category else None,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "info": self.info,
            "simulation": self.simulation.to_dict() if self.simulation else None,
        }


# Weight of each stage in the ranking score; simulation counts by the fraction of checks that passed.
STAGE_WEIGHTS: dict[str, float] = {
    "extract": 0.05,
    "screen": 0.05,
    "parse": 0.1,
    "lint": 0.1,
    "synth": 0.1,
    "simulate": 0.6,
}


@dataclass
class VerificationReport:
    """Everything verify() found about one candidate."""

    passed: bool
    category: Category
    score: float
    stages: list[StageResult]
    raw_text: str
    source: str
    top: str | None = None
    functional_tested: bool = False
    duration_s: float = 0.0
    cache_hit: bool = False
    key: str | None = None
    notes: list[str] = field(default_factory=list)

    def stage(self, name: str) -> StageResult | None:
        return next((s for s in self.stages if s.name == name), None)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for s in self.stages for d in s.diagnostics]

    @property
    def first_failure(self) -> StageResult | None:
        return next((s for s in self.stages if not s.passed and not s.skipped), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "category": self.category.value,
            "score": round(self.score, 4),
            "top": self.top,
            "functional_tested": self.functional_tested,
            "duration_s": round(self.duration_s, 6),
            "cache_hit": self.cache_hit,
            "key": self.key,
            "notes": self.notes,
            "stages": [s.to_dict() for s in self.stages],
            "source": self.source,
            "raw_text": self.raw_text,
        }

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), **kw)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VerificationReport:
        """Rebuild a report from to_dict() output (used by the cache and by worker processes)."""
        stages = []
        for s in d["stages"]:
            sim = s.get("simulation")
            simd = None
            if sim:
                sim = dict(sim)
                sim.pop("pass_fraction", None)
                sim["mismatches"] = [Mismatch(**m) for m in sim.get("mismatches", [])]
                simd = SimulationDetail(**sim)
            diags = [
                Diagnostic(**{**x, "severity": Severity(x["severity"]),
                              "category": Category(x["category"]) if x.get("category") else None})
                for x in s["diagnostics"]
            ]
            stages.append(StageResult(
                name=s["name"], passed=s["passed"], skipped=s.get("skipped", False),
                duration_s=s["duration_s"], diagnostics=diags,
                category=Category(s["category"]) if s.get("category") else None,
                info=s.get("info", {}), simulation=simd,
            ))
        return cls(
            passed=d["passed"], category=Category(d["category"]), score=d["score"], stages=stages,
            raw_text=d.get("raw_text", ""), source=d.get("source", ""), top=d.get("top"),
            functional_tested=d.get("functional_tested", False), duration_s=d.get("duration_s", 0.0),
            cache_hit=d.get("cache_hit", False), key=d.get("key"), notes=list(d.get("notes", [])),
        )
