"""Benchmarks write to a fresh folder or --out; only --update-results replaces benchmarks/results/."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import _results  # noqa: E402


def _args(*argv: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    _results.add_output_args(ap)
    return ap.parse_args(list(argv))


def test_default_is_a_fresh_folder_outside_the_committed_results(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(_results, "FRESH_ROOT", tmp_path)
    first = _results.output_dir(_args(), "bench")
    second = _results.output_dir(_args(), "bench")
    assert first != second and first.is_dir() and second.is_dir()
    assert first.parent == tmp_path and first.name.startswith("bench-")


def test_explicit_out_and_update_results(tmp_path) -> None:
    assert _results.output_dir(_args("--out", str(tmp_path / "x")), "bench") == tmp_path / "x"
    assert _results.output_dir(_args("--update-results"), "bench") == _results.RESULTS_DIR
    for argv in (["--out", str(_results.RESULTS_DIR)], ["--out", str(_results.RESULTS_DIR / "sub")],
                 ["--out", str(tmp_path), "--update-results"]):
        with pytest.raises(SystemExit):
            _results.output_dir(_args(*argv), "bench")


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_every_benchmark_refuses_to_overwrite_results_without_the_flag(script: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in _results.RESULTS_DIR.iterdir()}
    res = subprocess.run([sys.executable, str(script), "--out", "benchmarks/results"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "--update-results" in res.stderr and "Traceback" not in res.stderr
    assert {p: p.stat().st_mtime_ns for p in _results.RESULTS_DIR.iterdir()} == before
