"""Training config: strict TOML parsing, clear errors, the shipped configs."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from circuit_muse.errors import InputError
from circuit_muse.train.config import DEFAULT_TARGET_MODULES, config_from_mapping, load_config

CONFIGS = Path(__file__).resolve().parents[1] / "circuit_muse" / "train" / "configs"


def minimal(**tables: dict) -> dict:
    raw = {"model": {"base": "/models/base"}, "data": {"train": ["/data/train.jsonl"]},
           "stages": [{"name": "s1", "data_stages": [1]}]}
    raw.update(tables)
    return raw


def test_defaults_reproduce_original_lora() -> None:
    cfg = config_from_mapping(minimal())
    assert (cfg.lora.r, cfg.lora.alpha) == (16, 16)
    assert cfg.lora.target_modules == DEFAULT_TARGET_MODULES
    assert cfg.model.quantization == "auto" and cfg.model.compute_dtype == "bfloat16"


def test_default_toml_is_the_original_four_stage_run() -> None:
    cfg = load_config(CONFIGS / "default.toml")
    assert [s.data_stages for s in cfg.stages] == [(1,), (2,), (3,), (4,)]
    assert cfg.lora.r == 16 and cfg.lora.alpha == 16 and cfg.lora.target_modules == DEFAULT_TARGET_MODULES
    assert "Qwen2.5-VL-7B" in cfg.model.base  # a placeholder the user must set
    # per-stage overrides inherit the rest from [train]
    assert cfg.stages[2].hyper.learning_rate == 1e-4 and cfg.stages[2].hyper.batch_size == cfg.train.batch_size
    assert cfg.stages[0].hyper.learning_rate == cfg.train.learning_rate


def test_tiny_cpu_toml_paths_resolve_against_its_folder() -> None:
    cfg = load_config(CONFIGS / "tiny_cpu.toml")
    assert len(cfg.stages) == 4
    assert Path(cfg.data.train[0]).is_file()
    assert cfg.model.device == "cpu" and cfg.model.quantization == "none"


def test_unknown_key_names_the_valid_keys() -> None:
    with pytest.raises(InputError) as ei:
        config_from_mapping(minimal(lora={"rank": 8}), where="x.toml")
    msg = str(ei.value)
    assert "x.toml" in msg and "'rank'" in msg and "[lora]" in msg and "'r'" in msg and "target_modules" in msg


def test_unknown_table_and_stage_key() -> None:
    with pytest.raises(InputError, match=r"unknown table\(s\) \['optimizer'\]"):
        config_from_mapping(minimal(optimizer={}))
    raw = minimal()
    raw["stages"] = [{"name": "s1", "lr": 1e-3}]
    with pytest.raises(InputError, match=r"\['lr'\] in \[\[stages\]\] #1; valid keys: .*learning_rate"):
        config_from_mapping(raw)


@pytest.mark.parametrize(("table", "value", "pattern"), [
    ("lora", {"r": "16"}, r"\[lora\] r must be int, got str"),
    ("lora", {"r": 0}, r"r must be >= 1"),
    ("lora", {"dropout": 1.5}, r"dropout must be in \[0, 1\)"),
    ("lora", {"target_modules": []}, r"at least one module"),
    ("train", {"learning_rate": True}, r"learning_rate must be float, got bool"),
    ("train", {"lr_scheduler": "step"}, r"lr_scheduler 'step' is not one of"),
    ("train", {"batch_size": 0}, r"batch_size must be >= 1"),
    ("model", {"base": "/m", "quantization": "int8"}, r"quantization 'int8' is not one of \['auto', 'nf4', 'none'\]"),
    ("model", {"base": ""}, r"\[model\] base is required"),
    ("data", {"train": ["/d.jsonl"], "tasks": ["poetry"]}, r"tasks \['poetry'\] must be a non-empty subset"),
    ("data", {"train": []}, r"\[data\] train must name at least one"),
])
def test_bad_values(table: str, value: dict, pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        config_from_mapping(minimal(**{table: value}))


def test_stage_errors() -> None:
    with pytest.raises(InputError, match=r"no \[\[stages\]\]"):
        config_from_mapping({k: v for k, v in minimal().items() if k != "stages"})
    with pytest.raises(InputError, match=r"data_stages \[5\] must be a non-empty subset"):
        config_from_mapping(minimal(stages=[{"name": "a", "data_stages": [5]}]))
    with pytest.raises(InputError, match=r"used twice"):
        config_from_mapping(minimal(stages=[{"name": "a"}, {"name": "a"}]))
    with pytest.raises(InputError, match=r"must be letters"):
        config_from_mapping(minimal(stages=[{"name": "../evil"}]))


def test_stage_defaults_and_string_list() -> None:
    cfg = config_from_mapping(minimal(data={"train": "/one.jsonl"}, stages=[{}, {"epochs": 3}]))
    assert cfg.data.train == ("/one.jsonl",)
    assert [s.name for s in cfg.stages] == ["stage1", "stage2"]
    assert [s.data_stages for s in cfg.stages] == [(1,), (2,)]
    assert cfg.stages[1].hyper.epochs == 3 and cfg.stages[0].hyper.epochs == 1


def test_hub_id_kept_and_relative_paths_resolved(tmp_path: Path) -> None:
    (tmp_path / "local_model").mkdir()
    cfg = config_from_mapping(minimal(model={"base": "Qwen/Qwen2.5-VL-7B-Instruct", "tokenizer": "local_model"},
                                      data={"train": "d.jsonl"}), base_dir=tmp_path)
    assert cfg.model.base == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert cfg.model.tokenizer == str(tmp_path / "local_model")
    assert cfg.data.train == (str(tmp_path / "d.jsonl"),)


def test_fingerprint_ignores_output_dir_and_logging() -> None:
    a = config_from_mapping(minimal())
    b = config_from_mapping(minimal(run={"output_dir": "/elsewhere"}, train={"log_every": 7}))
    c = config_from_mapping(minimal(train={"learning_rate": 1e-3}))
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\nbase = 1")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(bad)


def test_shipped_configs_are_valid_toml() -> None:
    for p in CONFIGS.glob("*.toml"):
        tomllib.loads(p.read_text())
