"""`circuit-muse data build|check|stats`."""
from __future__ import annotations

import io
import json
import sys

import pytest

from circuit_muse.cli import main
from circuit_muse.data import build as B
from circuit_muse.data import load_dataset
from circuit_muse.train.records import read_records


def test_stats_json(capsys) -> None:
    assert main(["data", "stats", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["records"] == len(load_dataset())
    assert set(out["by_task"]) == {"generate", "debug", "explain", "assertion"}


def test_stats_text(capsys) -> None:
    assert main(["data", "stats"]) == 0
    out = capsys.readouterr().out
    assert "by task:" in out and "by stage:" in out and "by family:" in out and "length" in out


def test_check_unknown_id_is_a_usage_error(capsys) -> None:
    assert main(["data", "check", "--id", "no/such/record"]) == 2
    assert "no record with id" in capsys.readouterr().err


@pytest.mark.simulator
def test_check_one_record_passes(capsys) -> None:
    rid = next(r.id for r in load_dataset() if r.task == "debug" and r.family.startswith("other:"))
    assert main(["data", "check", "--id", rid, "-q", "--tier", "fast"]) == 0
    out = capsys.readouterr().out
    assert "1 passed, 0 failed" in out and "debug" in out


@pytest.mark.simulator
def test_check_exits_1_when_a_record_fails(tmp_path, capsys) -> None:
    good = next(r for r in load_dataset() if r.task == "generate" and r.family == "other:decoder")
    bad = good.to_json() | {"id": "broken", "output": good.output.replace("en ?", "1'b1 ?")}
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(good.to_json()) + "\n" + json.dumps(bad) + "\n")
    assert main(["data", "check", str(path), "--json", "--workers", "1"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["total"] == 2 and out["summary"]["passed"] == 1
    assert out["failed"][0]["id"] == "broken"
    assert out["summary"]["by_task"]["generate"] == {"passed": 1, "total": 2}


@pytest.mark.simulator
def test_build_keeps_verified_candidates_and_reports_dropped_ones(tmp_path, monkeypatch, capsys) -> None:
    recs = load_dataset()
    keep = [next(r for r in recs if r.task == t and not r.family.startswith("other:concept"))
            for t in ("generate", "explain")]
    cands = [B.Candidate(r.to_json() | {"checks": []}, "seed", "test") for r in keep]
    broken = keep[0].to_json() | {"id": "broken/sweep", "checks": [],
                                  "output": "```verilog\nmodule nope(input a); endmodule\n```"}
    cands.append(B.Candidate(broken, "sweep", "test"))
    monkeypatch.setattr(B, "candidates", lambda seed=B.DEFAULT_SEED: (cands, []))
    out = tmp_path / "built.jsonl"
    rc = main(["data", "build", "--out", str(out), "--report", str(tmp_path / "r.json"), "--workers", "1",
               "--tier", "fast", "--no-cache"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "2 of 3 candidates kept" in text and "dropped broken/sweep" in text
    built = read_records(out)
    assert [r.id for r in built] == [r.id for r in keep]
    assert all(r.checks for r in built)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["by_origin"]["sweep"] == {"candidates": 1, "kept": 0}
    assert report["dropped"][0]["id"] == "broken/sweep"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.simulator
def test_build_shows_a_bar_with_the_candidate_count(tmp_path, monkeypatch, capsys) -> None:
    recs = load_dataset()
    keep = [next(r for r in recs if r.task == "generate" and r.family.startswith("other:"))]
    cands = [B.Candidate(r.to_json() | {"checks": []}, "seed", "test") for r in keep]
    monkeypatch.setattr(B, "candidates", lambda seed=B.DEFAULT_SEED: (cands, []))
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    rc = main(["data", "build", "--out", str(tmp_path / "b.jsonl"), "--report", str(tmp_path / "r.json"),
               "--eval-out", str(tmp_path / "e.jsonl"), "--workers", "1", "--tier", "fast", "--no-cache"])
    assert rc == 0
    shown = term.getvalue()
    assert "verifying candidates" in shown and "1/1" in shown
    term.truncate(0)
    rc = main(["data", "build", "--out", str(tmp_path / "b.jsonl"), "--report", str(tmp_path / "r.json"),
               "--eval-out", str(tmp_path / "e.jsonl"), "--workers", "1", "--tier", "fast", "--no-cache", "-q"])
    assert rc == 0 and "verifying candidates" not in term.getvalue()
