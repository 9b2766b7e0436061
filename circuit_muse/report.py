"""Structured results of a verification run: diagnostics, stage results, the report and its summary."""
from __future__ import annotations

import enum
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Level(str, enum.Enum):
    """Which checks a verdict rests on. Only FUNCTIONAL is a pass.

    FUNCTIONAL: a testbench, a family suite or a reference comparison ran and passed (after lint and synth).
    STATIC: lint and synthesis ran and found nothing, but nothing checked what the design does.
    FAILED: some check failed (or did not finish).
    """

    FUNCTIONAL = "functional"
    STATIC = "static"
    FAILED = "failed"


STATIC_VERDICT = "CLEAN, NOT FUNCTIONALLY VERIFIED"  # the words every static-only report carries


class Category(str, enum.Enum):
    """One failure class per report, after VerilogEval v2's error classes."""

    PASS = "pass"                # functionally verified (level FUNCTIONAL)
    UNVERIFIED = "unverified"    # lint and synthesis clean, but no functional check ran (level STATIC)
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
    """One message from a tool, normalised: where, how bad, which rule, what, and the offending line.

    severity: error, warning or info; message: the tool's text; tool: which tool said it (iverilog,
    verilator, yosys, slang, screen, contract, cdc, ...); file/line/column: where (the design is
    `design.sv`); code: the tool's rule (e.g. LATCH, multidriver, cdc-gray); source_line: the offending line;
    category: the failure class it counts as.

    Example: ``d.location()`` -> ``"design.sv:4:5"``; ``d.to_dict()`` for JSON.
    """

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
    """One failing check from simulation: when, which signal, what went in, what was expected, what came out.

    test / time / cycle: where in the run; signal, inputs, expected, got: the failing comparison (values as
    text); message: a sentence when there is no single value to compare (e.g. a clock-domain crossing).
    """

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
    """What the simulate stage learned: counts, the first failures, and where the waveform of a failing run is.

    testbench_kind (e.g. ``suite/counter:fast+full``), simulator; tests/failures (cocotb-style counts) and
    samples/mismatched_samples (cycle comparisons); mismatches: the first failing checks; vcd_path: the kept
    waveform of a failing run; log_tail: the end of the simulator's output. `pass_fraction` feeds the score.
    """

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
    """The outcome of one stage: pass/fail, duration, diagnostics and stage-specific facts.

    name: extract, screen, parse, lint, synth or simulate; passed / skipped; duration_s; diagnostics (all
    messages; `errors` keeps the errors); category: why it failed; info: facts such as the synth cell count or
    the testbench description; simulation: counts and first mismatches when it is the simulate stage.

    Example: ``report.stage("lint").errors[0].message``.
    """

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


def display_score(score: float, passed: bool, digits: int = 3) -> float:
    """A score as shown to people: a failing (or unverified) candidate is rounded *down*, never to 1.0.

    >>> display_score(0.9996, passed=False, digits=2)
    0.99
    """
    if passed:
        return score
    scale = 10 ** digits
    return min(math.floor(score * scale) / scale, 1.0 - 1.0 / scale)


@dataclass
class VerificationReport:
    """Everything verify() found about one candidate.

    Fields:
        passed: True only when the design is functionally verified (``level is Level.FUNCTIONAL``): lint and
            synth were clean *and* a testbench, suite or reference ran and passed. A design that only passed
            lint and synthesis has ``passed=False``, ``level=Level.STATIC`` and ``category=UNVERIFIED``.
        level: which checks the verdict rests on (``functional``, ``static`` or ``failed``).
        category: the one failure class (``pass`` when passed, ``unverified`` for static-only).
        score: 0..1 for ranking candidates; exactly 1.0 only for a functional pass, below 1 otherwise.
        stages: one StageResult per stage that ran, cheapest first (extract, screen, parse, lint, synth,
            simulate); ``stage(name)`` finds one.
        raw_text / source: the text given to verify() and the Verilog extracted from it.
        top: the top module; functional_tested: whether a simulate stage ran; duration_s: wall time;
        cache_hit / key: whether this came from the verification cache, and its key; notes: remarks.

    Example::

        report = cm.verify(text, testbench="tests/test_counter.py")
        report                 # <VerificationReport PASS level=functional category=pass score=1.000 top=counter 57 ms>
        print(report.summary())
        report.stage("lint").diagnostics
    """

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
    level: Level = Level.FAILED

    def __post_init__(self) -> None:
        self.level = Level(self.level)
        if self.passed and self.level is not Level.FUNCTIONAL:
            raise ValueError("a report can only pass at level 'functional'")

    @property
    def verdict(self) -> str:
        """One word or phrase: PASS, CLEAN, NOT FUNCTIONALLY VERIFIED, or FAIL (category)."""
        if self.passed:
            return "PASS"
        if self.level is Level.STATIC:
            return STATIC_VERDICT
        return f"FAIL ({self.category.value})"

    def __repr__(self) -> str:
        return (f"<VerificationReport {self.verdict} level={self.level.value} category={self.category.value} "
                f"score={display_score(self.score, self.passed):.3f} top={self.top or '?'} "
                f"{self.duration_s * 1000:.0f} ms{' cached' if self.cache_hit else ''}>")

    def summary(self) -> str:
        """A few lines for people: the verdict, each stage with its mark, and the first problem."""
        lines = [f"{self.verdict}  level={self.level.value}  score={display_score(self.score, self.passed):.3f}  "
                 f"top={self.top or '?'}  {self.duration_s * 1000:.0f} ms"]
        for st in self.stages:
            mark = "-" if st.skipped else ("\u2713" if st.passed else "\u2717")
            cat = f" [{st.category.value}]" if st.category and not st.passed else ""
            lines.append(f"  {mark} {st.name}{cat}")
        first = self.first_failure
        if first is not None and first.errors:
            d = first.errors[0]
            lines.append(f"  first problem: {d.location()}: {d.message}")
        elif first is not None and first.simulation and first.simulation.mismatches:
            m = first.simulation.mismatches[0]
            lines.append(f"  first mismatch: {m.signal or m.test or ''} expected {m.expected}, got {m.got}"
                         if m.expected is not None else f"  first mismatch: {m.message}")
        if self.level is Level.STATIC:
            lines.append("  no testbench, suite or reference ran: lint and synthesis only")
        return "\n".join(lines)

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
            "level": self.level.value,
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
        level = d.get("level")
        if level is None:  # written before levels existed: a pass without simulation was static
            level = (Level.FUNCTIONAL if d.get("functional_tested") else Level.STATIC) if d["passed"] else Level.FAILED
        level = Level(level)
        passed = d["passed"] and level is Level.FUNCTIONAL
        category = Category(d["category"])
        if level is Level.STATIC and category is Category.PASS:
            category = Category.UNVERIFIED
        return cls(
            passed=passed, category=category, score=d["score"] if passed else min(d["score"], 0.999), stages=stages,
            raw_text=d.get("raw_text", ""), source=d.get("source", ""), top=d.get("top"),
            functional_tested=d.get("functional_tested", False), duration_s=d.get("duration_s", 0.0),
            cache_hit=d.get("cache_hit", False), key=d.get("key"), notes=list(d.get("notes", [])), level=level,
        )
