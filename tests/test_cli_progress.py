"""Long commands show a progress bar (counts, ETA) on a terminal, and stay quiet in logs and with --quiet."""
from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path
from types import SimpleNamespace

import pytest

from circuit_muse.data import load_dataset

ROOT = Path(__file__).resolve().parent.parent


def _run_on_tty(*args: str) -> tuple[int, str, str]:
    """Run the CLI with stderr on a real pseudo-terminal; return (rc, stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a new pty is 0 columns wide
    try:
        proc = subprocess.Popen([sys.executable, "-m", "circuit_muse.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=slave, text=True)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        out = proc.stdout.read() if proc.stdout else ""
        rc = proc.wait(timeout=120)
    finally:
        os.close(master)
    return rc, out, b"".join(chunks).decode(errors="replace")


def _record_id() -> str:
    return next(r.id for r in load_dataset() if r.task == "generate" and r.family == "other:decoder")


@pytest.mark.simulator
def test_data_check_shows_a_bar_on_a_terminal() -> None:
    rc, out, tty = _run_on_tty("data", "check", "--id", _record_id(), "--tier", "fast", "--workers", "1")
    assert rc == 0, out + tty
    assert "checking records" in tty and "1/1" in tty and "rec/s" in tty
    assert "1 passed, 0 failed" in out


@pytest.mark.simulator
def test_data_check_is_quiet_in_logs_and_with_quiet() -> None:
    rc, out, tty = _run_on_tty("data", "check", "--id", _record_id(), "--tier", "fast", "--workers", "1", "-q")
    assert rc == 0 and "checking records" not in tty and "\r" not in tty
    piped = subprocess.run([sys.executable, "-m", "circuit_muse.cli", "data", "check", "--id", _record_id(),
                            "--tier", "fast", "--workers", "1"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert piped.returncode == 0
    assert "\r" not in piped.stderr and "checking records" not in piped.stderr
    assert piped.stderr.startswith("ok ")    # a log still gets one line per record


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _ev(kind: str, step: int = 0, **data: object) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, stage="s1", step=step, total_steps=4, data=data)


def test_train_progress_bar_counts_steps(monkeypatch, capsys) -> None:
    from circuit_muse.cli.train_cmd import _TrainProgress

    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    progress = _TrainProgress()
    progress(_ev("stage_start", index=1, n_train=8, n_eval=2))
    for step in (1, 2, 3, 4):
        progress(_ev("step", step, loss=1.0 / step, lr=1e-4, tokens_per_second=100.0))
    progress(_ev("stage_end", 4, seconds=1.0, train_loss_first=1.0, train_loss_last=0.25))
    shown = term.getvalue()
    assert "[s1]" in shown and "4/4" in shown and "loss=0.2500" in shown
    out = capsys.readouterr().out
    assert "stage 1: 8 train / 2 eval records" in out and "done in 1.0s" in out
    assert "step 2/4" not in out   # steps move the bar instead of printing lines


def test_train_progress_prints_lines_when_not_a_terminal(capsys) -> None:
    from circuit_muse.cli.train_cmd import _TrainProgress

    progress = _TrainProgress()
    progress(_ev("stage_start", index=1, n_train=8, n_eval=2))
    progress(_ev("step", 1, loss=0.5, lr=1e-4, tokens_per_second=100.0))
    progress.close()
    captured = capsys.readouterr()
    assert "step 1/4 loss 0.5000" in captured.out and "\r" not in captured.err


@pytest.mark.simulator
def test_mutation_score_reports_progress() -> None:
    from circuit_muse.suites import get_suite
    from circuit_muse.suites.mutate import score

    seen: list[tuple[int, int]] = []
    score(get_suite("register", "reg-noen-sync-high", {"WIDTH": 1}), tier="fast", limit=3,
          on_progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
