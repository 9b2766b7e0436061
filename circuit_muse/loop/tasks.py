"""Tell what a prompt asks for: new RTL, a fix of given RTL, an assertion, or an explanation."""
from __future__ import annotations

import enum
import re

from ..engine.extract import extract_verilog


class Task(str, enum.Enum):
    GENERATE = "generate"
    DEBUG = "debug"
    ASSERTION = "assertion"
    EXPLAIN = "explain"


_ASSERT = re.compile(r"\b(assertion|assert property|\bsva\b|concurrent assert)", re.I)
_EXPLAIN = re.compile(r"^\s*(explain|why\b|what\b|how does|how do|describe|compare|when should|what's|whats)", re.I)
_CODE = re.compile(r"\b(always|assign|if|case|begin)\b[^;]*?(<=|=)[^;]*;")
_DEBUG = re.compile(r"\b(fix|debug|bug|broken|wrong|overflows?|doesn't work|does not work|add\b|modify|change)\b",
                    re.I)


def classify_task(prompt: str) -> Task:
    """A keyword classifier: good enough to route, and the caller may always force a task."""
    has_code = bool(extract_verilog(prompt).source) or bool(_CODE.search(prompt))
    if _ASSERT.search(prompt):
        return Task.ASSERTION
    if _EXPLAIN.search(prompt) and not re.search(r"\b(design|write|implement|create|build)\b", prompt, re.I):
        return Task.EXPLAIN
    if has_code and _DEBUG.search(prompt):
        return Task.DEBUG
    return Task.GENERATE
