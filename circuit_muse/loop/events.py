"""Events the loop emits while it works: the streaming API, the CLI progress and the HTTP service use them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Event:
    type: str
    round: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def round_started(rnd: int, samples: int) -> Event:
    return Event("round_started", rnd, {"samples": samples})


def token(rnd: int, index: int, text: str) -> Event:
    return Event("token", rnd, {"index": index, "text": text})


def stage(rnd: int, index: int, name: str, passed: bool, skipped: bool, category: str | None) -> Event:
    return Event("stage", rnd, {"index": index, "stage": name, "passed": passed, "skipped": skipped,
                                "category": category})


def candidate(rnd: int, index: int, passed: bool, category: str, score: float, cached: bool) -> Event:
    return Event("candidate", rnd, {"index": index, "passed": passed, "category": category,
                                    "score": round(score, 4), "cached": cached})


def feedback(rnd: int, text: str) -> Event:
    return Event("feedback", rnd, {"text": text})


def done(rnd: int, passed: bool, reason: str) -> Event:
    return Event("done", rnd, {"passed": passed, "reason": reason})
