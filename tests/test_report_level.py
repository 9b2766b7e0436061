"""Verdict levels, the short repr and summary(), and scores that never read 1.00 for a failure."""
from __future__ import annotations

from pathlib import Path

import pytest

import circuit_muse as cm
from circuit_muse.cli.exit_codes import EXIT_FAIL, EXIT_PASS, EXIT_STATIC, exit_code
from circuit_muse.loop import events
from circuit_muse.report import Level, StageResult, VerificationReport, display_score
from circuit_muse.testbench import ReferenceTestbench

ROOT = Path(__file__).resolve().parent.parent
GOOD = (ROOT / "examples" / "counter.v").read_text()


def _report(passed: bool, level: Level, score: float, category: cm.Category) -> VerificationReport:
    stages = [StageResult(name="lint", passed=True, duration_s=0.01)]
    return VerificationReport(passed=passed, category=category, score=score, stages=stages, raw_text="x" * 5000,
                              source="y" * 5000, top="counter", duration_s=0.057, level=level)


def test_only_a_functional_report_can_pass() -> None:
    with pytest.raises(ValueError):
        _report(True, Level.STATIC, 1.0, cm.Category.PASS)


def test_repr_is_short_and_says_the_level() -> None:
    rep = _report(False, Level.STATIC, 0.9999, cm.Category.UNVERIFIED)
    text = repr(rep)
    assert len(text) < 160 and "CLEAN, NOT FUNCTIONALLY VERIFIED" in text and "level=static" in text
    assert "score=0.999" in text and "top=counter" in text and "57 ms" in text
    assert "lint and synthesis only" in rep.summary()
    ok = _report(True, Level.FUNCTIONAL, 1.0, cm.Category.PASS)
    assert repr(ok).startswith("<VerificationReport PASS level=functional") and "score=1.000" in repr(ok)


def test_old_cache_entries_without_a_level_are_not_passes() -> None:
    d = _report(False, Level.STATIC, 0.5, cm.Category.UNVERIFIED).to_dict()
    d.pop("level")
    d.update(passed=True, category="pass", score=1.0, functional_tested=False)
    rep = VerificationReport.from_dict(d)
    assert not rep.passed and rep.level is Level.STATIC and rep.category is cm.Category.UNVERIFIED
    assert rep.score < 1


def test_failing_scores_round_down_everywhere() -> None:
    assert display_score(0.99996, passed=False, digits=2) == 0.99
    assert f"{display_score(0.99996, passed=False, digits=3):.3f}" == "0.999"
    ev = events.candidate(1, 0, False, "mismatch", 0.9996, False)
    assert f"{ev.data['score']:.2f}" == "0.99"
    assert events.candidate(1, 0, True, "pass", 1.0, False).data["score"] == 1.0


def test_exit_codes() -> None:
    assert exit_code([Level.FUNCTIONAL, Level.FUNCTIONAL]) == EXIT_PASS == 0
    assert exit_code([Level.FUNCTIONAL, Level.STATIC]) == EXIT_STATIC == 3
    assert exit_code([Level.STATIC, Level.FAILED]) == EXIT_FAIL == 1


@pytest.mark.simulator
def test_verify_without_a_testbench_is_static_not_a_pass() -> None:
    rep = cm.verify(GOOD, use_cache=False)
    assert not rep.passed and rep.level is Level.STATIC and rep.category is cm.Category.UNVERIFIED
    assert rep.score < 1 and rep.to_dict()["level"] == "static"
    assert any("NOT FUNCTIONALLY VERIFIED" in n for n in rep.notes)
    ref = cm.verify(GOOD, testbench=ReferenceTestbench(GOOD), use_cache=False)
    assert ref.passed and ref.level is Level.FUNCTIONAL and ref.score == 1.0
