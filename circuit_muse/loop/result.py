"""What generate_verified() returns: every candidate, the best one, its report, totals."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..report import VerificationReport


@dataclass
class Candidate:
    """One completion of one round: its text, the Verilog extracted from it, and its VerificationReport."""

    round: int
    index: int
    text: str
    verilog: str
    report: VerificationReport | None
    score: float
    completion_tokens: int
    generation_s: float
    verification_s: float

    @property
    def passed(self) -> bool:
        return bool(self.report and self.report.passed)

    def to_dict(self) -> dict[str, Any]:
        return {"round": self.round, "index": self.index, "passed": self.passed, "score": round(self.score, 4),
                "level": self.report.level.value if self.report else "failed",
                "category": self.report.category.value if self.report else None, "verilog": self.verilog,
                "text": self.text, "completion_tokens": self.completion_tokens,
                "generation_s": round(self.generation_s, 4), "verification_s": round(self.verification_s, 4)}


@dataclass
class GenerationResult:
    """What generate_verified() returns.

    passed: True only when the best design passed a functional check (testbench, suite or reference);
    level: "functional", "static" (lint and synthesis clean, nothing checked behaviour: no suite fitted the
    prompt) or "failed"; verilog / report: the best candidate and its VerificationReport; rounds: every
    Candidate; match: what the prompt matched ({"mode": "suite"|"testbench"|"static", "family", "variant",
    "confidence", "ignored", "adapted", "unsure", ...}); spec: the suite's spec; stop_reason: "passed",
    "static-clean", "rounds", "tokens", "time" or "explain"; feedback: texts sent back to the model;
    verified: False for prose answers; token counts and timings; notes.

    Example::

        result = generate_verified("Design a 4-bit counter.", model=m)
        result.passed, result.level, result.report.summary(), result.rounds[0].report
    """

    passed: bool
    task: str
    verilog: str | None
    report: VerificationReport | None
    rounds: list[Candidate]
    spec: dict[str, Any] | None
    stop_reason: str
    feedback: list[str] = field(default_factory=list)
    text: str | None = None           # the raw answer (prose for explain tasks)
    verified: bool = True             # False for prose: nothing can verify an explanation
    prompt_tokens: int = 0
    completion_tokens: int = 0
    generation_s: float = 0.0
    verification_s: float = 0.0
    total_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    level: str = "failed"
    match: dict[str, Any] | None = None

    @property
    def best(self) -> Candidate | None:
        return max(self.rounds, key=lambda c: (c.passed, c.score, -c.round), default=None)

    @property
    def rounds_used(self) -> int:
        return max((c.round for c in self.rounds), default=0)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "level": self.level, "match": self.match, "task": self.task,
                "verified": self.verified, "verilog": self.verilog,
                "text": self.text, "stop_reason": self.stop_reason, "spec": self.spec,
                "report": self.report.to_dict() if self.report else None,
                "candidates": [c.to_dict() for c in self.rounds], "feedback": self.feedback,
                "rounds_used": self.rounds_used, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "generation_s": round(self.generation_s, 3),
                "verification_s": round(self.verification_s, 3), "total_s": round(self.total_s, 3),
                "notes": self.notes}
