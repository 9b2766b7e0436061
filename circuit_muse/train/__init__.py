"""Progressive (Q)LoRA fine-tuning: `circuit-muse train --config PATH`.

Light modules (config, records, formatting) import without torch; the pipeline and model loading are
imported on first use, so `import circuit_muse.train` stays cheap.
"""
from __future__ import annotations

from typing import Any

from .config import TrainConfig, config_from_mapping, load_config
from .formatting import SYSTEM_PROMPT, prompt_messages, record_messages, user_content
from .records import RECORD_FIELDS, STAGES, TASKS, Record, parse_record, read_records

__all__ = [
    "RECORD_FIELDS", "STAGES", "SYSTEM_PROMPT", "TASKS", "Record", "TrainConfig", "TrainEvent", "TrainPlan",
    "TrainResult", "config_from_mapping", "load_config", "make_plan", "parse_record", "prompt_messages",
    "read_records", "record_messages", "run_training", "user_content",
]

_LAZY = {"make_plan", "run_training", "TrainEvent", "TrainPlan", "TrainResult"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
