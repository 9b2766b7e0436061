"""Per-problem JSONL records, appended (and fsynced) as each problem finishes, so a killed run resumes.

Each line is one problem's outcome and carries the run key (a hash of suite, model, settings, prompt
template and mode). Resuming with other settings in the same folder is refused instead of mixing runs.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import InputError

RECORDS_FILE = "records.jsonl"


class RecordStore:
    def __init__(self, out_dir: Path, run_key: str) -> None:
        self.path = out_dir / RECORDS_FILE
        self.run_key = run_key
        self.done: dict[str, dict[str, Any]] = {}
        out_dir.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        good_bytes = 0
        with self.path.open("rb") as fh:
            for raw in fh:
                try:
                    rec = json.loads(raw)
                except json.JSONDecodeError:
                    break  # a line cut by a kill: drop it and everything after
                if not raw.endswith(b"\n"):
                    break
                if rec.get("run_key") != self.run_key:
                    raise InputError(f"{self.path} holds a run with other settings (run key {rec.get('run_key')}, "
                                     f"this run {self.run_key}); use another --out folder, or delete it to start over")
                self.done[rec["problem"]] = rec
                good_bytes += len(raw)
        if good_bytes != self.path.stat().st_size:
            with self.path.open("r+b") as fh:
                fh.truncate(good_bytes)

    def add(self, record: dict[str, Any]) -> None:
        record = {"run_key": self.run_key, **record}
        with self.path.open("a") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.done[record["problem"]] = record
