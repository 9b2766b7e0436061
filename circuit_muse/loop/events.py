"""Events the loop emits while it works: the streaming API, the CLI progress and the HTTP service use them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..report import display_score


@dataclass
class Event:
    type: str
    round: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def match(info: dict[str, Any], line: str) -> Event:
    """Before round 1: what the prompt matched, what it ignored, which checks will run (`line` says it)."""
    return Event("match", 0, {**info, "line": line})


def round_started(rnd: int, samples: int) -> Event:
    return Event("round_started", rnd, {"samples": samples})


def token(rnd: int, index: int, text: str) -> Event:
    return Event("token", rnd, {"index": index, "text": text})


def stage(rnd: int, index: int, name: str, passed: bool, skipped: bool, category: str | None) -> Event:
    return Event("stage", rnd, {"index": index, "stage": name, "passed": passed, "skipped": skipped,
                                "category": category})


def candidate(rnd: int, index: int, passed: bool, category: str, score: float, cached: bool,
              level: str = "failed") -> Event:
    """One verified candidate; a failing one's score is rounded down, so it never reads 1.00."""
    return Event("candidate", rnd, {"index": index, "passed": passed, "category": category, "level": level,
                                    "score": display_score(score, passed, 2), "cached": cached})


def feedback(rnd: int, text: str) -> Event:
    return Event("feedback", rnd, {"text": text})


def done(rnd: int, passed: bool, reason: str) -> Event:
    return Event("done", rnd, {"passed": passed, "reason": reason})
