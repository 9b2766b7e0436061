"""The generate → verify → feedback loop."""
from __future__ import annotations

from .loop import agenerate_verified, aiter_generate, generate_verified, iter_generate
from .result import Candidate, GenerationResult
from .tasks import Task, classify_task

__all__ = ["Candidate", "GenerationResult", "Task", "agenerate_verified", "aiter_generate", "classify_task",
           "generate_verified", "iter_generate"]
