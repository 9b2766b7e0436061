"""SQLite (WAL) persistence for jobs and their events: nothing a client needs is kept only in memory.

One connection per thread (SQLite's rule); writers serialise on SQLite's own lock. A job's terminal state
and its terminal event are written in one transaction, and no event is accepted after it, so every job
ends with exactly one terminal event even when a cancel races the worker.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TERMINAL_STATES = frozenset({"passed", "failed", "cancelled", "interrupted"})
STATES = ("queued", "running", *sorted(TERMINAL_STATES))

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    state TEXT NOT NULL,
    prompt TEXT NOT NULL,
    settings TEXT NOT NULL,
    result TEXT,
    error TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_owner_created ON jobs(owner, created);
CREATE TABLE IF NOT EXISTS events (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    round INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
"""


@dataclass
class JobRow:
    id: str
    owner: str
    state: str
    prompt: str
    settings: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created: float
    started: float | None
    finished: float | None
    last_seq: int

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES


@dataclass
class EventRow:
    seq: int
    type: str
    round: int
    data: dict[str, Any]


def _job(row: sqlite3.Row) -> JobRow:
    return JobRow(id=row["id"], owner=row["owner"], state=row["state"], prompt=row["prompt"],
                  settings=json.loads(row["settings"]), result=json.loads(row["result"]) if row["result"] else None,
                  error=row["error"], created=row["created"], started=row["started"], finished=row["finished"],
                  last_seq=row["last_seq"])


class JobStore:
    """Jobs and events in one SQLite file (or ':memory:'-like temp file for tests)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn().executescript(_SCHEMA)  # executescript manages its own transaction

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a process kill
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # ------------------------------------------------------------------ jobs

    def create(self, job_id: str, owner: str, prompt: str, settings: dict[str, Any]) -> JobRow:
        with self._tx() as db:
            db.execute("INSERT INTO jobs (id, owner, state, prompt, settings, created) VALUES (?, ?, 'queued', ?, ?, ?)",
                       (job_id, owner, prompt, json.dumps(settings), time.time()))
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: str) -> JobRow | None:
        row = self._conn().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def list(self, owner: str | None, limit: int = 50) -> list[JobRow]:
        if owner is None:
            rows = self._conn().execute("SELECT * FROM jobs ORDER BY created DESC LIMIT ?", (limit,)).fetchall()
        else:
            rows = self._conn().execute("SELECT * FROM jobs WHERE owner = ? ORDER BY created DESC LIMIT ?",
                                        (owner, limit)).fetchall()
        return [_job(r) for r in rows]

    def mark_running(self, job_id: str) -> bool:
        """queued -> running; False if the job was cancelled (or is otherwise not queued) meanwhile."""
        with self._tx() as db:
            cur = db.execute("UPDATE jobs SET state='running', started=? WHERE id=? AND state='queued'",
                             (time.time(), job_id))
            return cur.rowcount == 1

    # ------------------------------------------------------------------ events

    def append(self, job_id: str, type_: str, round_: int, data: dict[str, Any]) -> int | None:
        """Add one event; returns its sequence number, or None if the job already ended."""
        with self._tx() as db:
            row = db.execute("UPDATE jobs SET last_seq = last_seq + 1 WHERE id = ? AND state NOT IN "
                             "('passed','failed','cancelled','interrupted') RETURNING last_seq", (job_id,)).fetchone()
            if row is None:
                return None
            db.execute("INSERT INTO events (job_id, seq, type, round, data) VALUES (?, ?, ?, ?, ?)",
                       (job_id, row[0], type_, round_, json.dumps(data)))
            return int(row[0])

    def finish(self, job_id: str, state: str, round_: int, done: dict[str, Any], *,
               result: dict[str, Any] | None = None, error: str | None = None) -> int | None:
        """End a job: set its terminal state and write its one `done` event. None if it had already ended."""
        assert state in TERMINAL_STATES, state
        with self._tx() as db:
            row = db.execute("UPDATE jobs SET state=?, result=?, error=?, finished=?, last_seq=last_seq+1 "
                             "WHERE id=? AND state NOT IN ('passed','failed','cancelled','interrupted') "
                             "RETURNING last_seq",
                             (state, json.dumps(result) if result is not None else None, error, time.time(),
                              job_id)).fetchone()
            if row is None:
                return None
            db.execute("INSERT INTO events (job_id, seq, type, round, data) VALUES (?, ?, 'done', ?, ?)",
                       (job_id, row[0], round_, json.dumps({**done, "state": state})))
            return int(row[0])

    def events_after(self, job_id: str, after: int, limit: int = 1000) -> list[EventRow]:
        rows = self._conn().execute("SELECT seq, type, round, data FROM events WHERE job_id = ? AND seq > ? "
                                    "ORDER BY seq LIMIT ?", (job_id, after, limit)).fetchall()
        return [EventRow(r["seq"], r["type"], r["round"], json.loads(r["data"])) for r in rows]

    def count_events(self, job_id: str, type_: str | None = None) -> int:
        if type_ is None:
            q, args = "SELECT COUNT(*) FROM events WHERE job_id = ?", (job_id,)
        else:
            q, args = "SELECT COUNT(*) FROM events WHERE job_id = ? AND type = ?", (job_id, type_)
        return int(self._conn().execute(q, args).fetchone()[0])

    def interrupt_unfinished(self) -> list[str]:
        """At start-up: every job a previous server left queued or running was cut off; say so."""
        ids = [r[0] for r in self._conn().execute("SELECT id FROM jobs WHERE state IN ('queued','running')")]
        for job_id in ids:
            self.finish(job_id, "interrupted", 0, {"passed": False, "reason": "interrupted",
                                                  "message": "the server stopped while this job ran; submit it again"})
        return ids
