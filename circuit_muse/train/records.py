"""Training records: one JSON object per line, read strictly, every error named by file:line.

Schema (every key required, no others allowed)::

    id           str, non-empty, unique across the files read together
    task         "generate" | "debug" | "explain" | "assertion"
    stage        int 1..4 (the progressive stage the record belongs to)
    instruction  str, non-empty: what the engineer asks
    input        str, may be empty: code or spec the instruction refers to (buggy RTL for debug, ...)
    output       str, non-empty: the verified answer the model learns to write
    family       str, may be empty or null: the design family ("counter", "fifo", ...)
    params       object (null = {}): the family parameters the example was built with
    checks       list of str: the checks the output passed ("lint", "synth", "suite:fifo", "assertion", ...)

Files ending in .gz are read through gzip. Blank lines are skipped.
"""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError

TASKS = ("generate", "debug", "explain", "assertion")
STAGES = (1, 2, 3, 4)
RECORD_FIELDS = ("id", "task", "stage", "instruction", "input", "output", "family", "params", "checks")


@dataclass(frozen=True)
class Record:
    id: str
    task: str
    stage: int
    instruction: str
    input: str
    output: str
    family: str
    params: dict[str, Any]
    checks: tuple[str, ...]
    where: str = field(default="", compare=False)  # "file:line" it was read from; not part of the schema

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "task": self.task, "stage": self.stage, "instruction": self.instruction,
                "input": self.input, "output": self.output, "family": self.family, "params": dict(self.params),
                "checks": list(self.checks)}


def parse_record(obj: Any, where: str = "<record>") -> Record:
    """Validate one decoded JSON object against the schema.

    Raises:
        InputError: naming `where`, the key and what was expected.
    """
    if not isinstance(obj, dict):
        raise InputError(f"{where}: a record must be a JSON object, got {type(obj).__name__}")
    missing = [k for k in RECORD_FIELDS if k not in obj]
    if missing:
        raise InputError(f"{where}: missing key(s) {missing}; a record has exactly {list(RECORD_FIELDS)}")
    unknown = sorted(set(obj) - set(RECORD_FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown key(s) {unknown}; a record has exactly {list(RECORD_FIELDS)}")

    def text(key: str, *, empty_ok: bool, null_ok: bool = False) -> str:
        v = obj[key]
        if v is None and null_ok:
            return ""
        if not isinstance(v, str):
            raise InputError(f"{where}: '{key}' must be a string, got {type(v).__name__}")
        if not empty_ok and not v.strip():
            raise InputError(f"{where}: '{key}' must not be empty")
        return v

    rid = text("id", empty_ok=False)
    task = text("task", empty_ok=False)
    if task not in TASKS:
        raise InputError(f"{where}: task {task!r} is not one of {list(TASKS)}")
    stage = obj["stage"]
    if isinstance(stage, bool) or not isinstance(stage, int) or stage not in STAGES:
        raise InputError(f"{where}: stage must be an integer in {list(STAGES)}, got {stage!r}")
    params = obj["params"] if obj["params"] is not None else {}
    if not isinstance(params, dict):
        raise InputError(f"{where}: 'params' must be an object, got {type(params).__name__}")
    checks = obj["checks"]
    if not isinstance(checks, list) or not all(isinstance(c, str) and c for c in checks):
        raise InputError(f"{where}: 'checks' must be a list of non-empty strings, got {checks!r}")
    return Record(id=rid, task=task, stage=stage, instruction=text("instruction", empty_ok=False),
                  input=text("input", empty_ok=True), output=text("output", empty_ok=False),
                  family=text("family", empty_ok=True, null_ok=True), params=params, checks=tuple(checks),
                  where=where)


def iter_records(path: str | Path) -> Iterator[Record]:
    """Yield the records of one JSONL (or .jsonl.gz) file in order."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"training data file {str(p)!r} not found")
    opener = gzip.open if p.suffix == ".gz" else open
    try:
        with opener(p, "rt", encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                where = f"{p}:{lineno}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") from exc
                yield parse_record(obj, where)
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError) as exc:
        raise InputError(f"{p}: cannot be read as UTF-8 JSONL: {exc}") from exc


def read_records(paths: str | Path | Iterable[str | Path]) -> list[Record]:
    """Read one or more files; ids must be unique across all of them."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[Record] = []
    seen: dict[str, str] = {}
    for path in paths:
        for rec in iter_records(path):
            if rec.id in seen:
                raise InputError(f"{rec.where}: duplicate id {rec.id!r} (first seen at {seen[rec.id]})")
            seen[rec.id] = rec.where
            out.append(rec)
    return out
