"""`circuit-muse train`: dry run, a full tiny run, resume, and exit codes."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from circuit_muse.cli import main

CONFIGS = Path(__file__).resolve().parents[1] / "circuit_muse" / "train" / "configs"


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    if importlib.util.find_spec("torch") is None:
        yield
        return
    from train_support import one_torch_thread

    with one_torch_thread():
        yield


def test_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[model]\nbase = "/m"\nbogus = 1\n')
    assert main(["train", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown key(s) ['bogus'] in [model]; valid keys:" in err
    assert main(["train", "--config", str(tmp_path / "missing.toml")]) == 2


@pytest.mark.model
def test_dry_run_of_default_config_without_the_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # default.toml trains on the shipped verified set; its base model is a placeholder the user sets,
    # so the plan is printed with every stage's record count and says why the parameter count is unknown
    assert main(["train", "--config", str(CONFIGS / "default.toml"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    for stage in ("stage1-basics", "stage2-patterns", "stage3-industry", "stage4-advanced"):
        assert stage in out
    assert "Set [model] base to a local model folder" in out


@pytest.mark.model
def test_dry_run_prints_plan_with_trainable_params(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from train_support import cached_model, write_config

    cfg = write_config(tmp_path / "t.toml", cached_model("qwen2"), tmp_path / "out")
    assert main(["train", "--config", str(cfg), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "trainable" in out and "stage4" in out and "r=4 alpha=8" in out
    assert not (tmp_path / "out").exists()
    assert main(["train", "--config", str(cfg), "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["trainable_params"] > 0 and [s["name"] for s in plan["stages"]] == [f"stage{i}" for i in range(1, 5)]
    assert plan["device"] == "cpu" and plan["quantization"] == "none"


@pytest.mark.model
def test_train_then_resume_via_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from train_support import cached_model, write_config

    cfg = write_config(tmp_path / "t.toml", cached_model("qwen2"), tmp_path / "ignored", stages=2,
                       train="max_steps = 2")
    out_dir = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--output", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "[stage1] step 1/2 loss" in out and "[stage2] done" in out and "final adapter:" in out
    assert (out_dir / "final" / "circuit_muse_train.json").is_file() and not (tmp_path / "ignored").exists()
    # the same output again needs --resume
    assert main(["train", "--config", str(cfg), "--output", str(out_dir)]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["train", "--config", str(cfg), "--output", str(out_dir), "--resume", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["skipped_stages"] == ["stage1", "stage2"]
