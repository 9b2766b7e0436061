"""The 4-stage pipeline on tiny CPU models: loss goes down, the adapter reloads and generates, resume is exact."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from train_support import DATA, cached_model, one_torch_thread, write_config

from circuit_muse.errors import InputError
from circuit_muse.train import config_from_mapping, load_config, make_plan, run_training
from circuit_muse.train.pipeline import MANIFEST, split_eval
from circuit_muse.train.records import read_records

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytestmark = pytest.mark.model


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    with one_torch_thread():
        yield

CONFIGS = Path(__file__).resolve().parents[1] / "circuit_muse" / "train" / "configs"


def tiny_cpu_config(base: Path, out: Path):
    """The shipped configs/tiny_cpu.toml with its base model pointed at a tiny model."""
    raw = tomllib.loads((CONFIGS / "tiny_cpu.toml").read_text())
    raw["model"]["base"] = str(base)
    raw["run"]["output_dir"] = str(out)
    return config_from_mapping(raw, base_dir=CONFIGS, where="tiny_cpu.toml")


class Stop(Exception):
    pass


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    base = cached_model("qwen2")
    cfg = tiny_cpu_config(base, tmp_path_factory.mktemp("full") / "out")
    events = []
    result = run_training(cfg, on_event=events.append)
    return cfg, result, events


def test_four_stages_run_in_order_and_loss_decreases(full_run) -> None:
    cfg, result, events = full_run
    assert [s.name for s in result.stages] == ["stage1", "stage2", "stage3", "stage4"]
    starts = [e.stage for e in events if e.kind == "stage_start"]
    assert starts == ["stage1", "stage2", "stage3", "stage4"]
    for s in result.stages:
        assert s.steps == len(s.train_losses) > 0
        first = sum(s.train_losses[:2]) / 2
        last = sum(s.train_losses[-2:]) / 2
        assert last < first, (s.name, s.train_losses)
        assert s.n_eval >= 1 and s.eval_loss_before is not None
    assert result.stages[0].eval_loss_after < result.stages[0].eval_loss_before
    # each stage trains only on its own records
    recs = read_records(DATA)
    for s in result.stages:
        assert s.n_train + s.n_eval == sum(r.stage == s.data_stages[0] for r in recs)


def test_final_folder_and_manifest(full_run) -> None:
    cfg, result, _ = full_run
    final = result.final_dir
    names = {p.name for p in final.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json",
            MANIFEST} <= names
    tok_cfg = json.loads((final / "tokenizer_config.json").read_text())
    assert "chat_template.jinja" in names or "chat_template" in tok_cfg
    adapter_cfg = json.loads((final / "adapter_config.json").read_text())
    assert adapter_cfg["base_model_name_or_path"] == cfg.model.base
    assert adapter_cfg["r"] == 4 and adapter_cfg["lora_alpha"] == 8
    m = json.loads((final / MANIFEST).read_text())
    assert m["base_model"] == cfg.model.base and m["quantization"] == "none" and m["device"] == "cpu"
    assert [s["name"] for s in m["stages"]] == ["stage1", "stage2", "stage3", "stage4"]
    assert all(s["train_loss_last"] < s["train_loss_first"] for s in m["stages"])
    assert m["trainable_params"] == result.trainable_params > 0
    assert m["system_prompt"] and m["config_fingerprint"] == cfg.fingerprint()
    # the stage checkpoints are gone once each stage's adapter is written
    assert not any((Path(cfg.run.output_dir) / s.name / "checkpoints").exists() for s in result.stages)


def test_plan_matches_the_run(full_run) -> None:
    cfg, result, _ = full_run
    plan = make_plan(cfg)
    assert plan.trainable_params == result.trainable_params
    assert [(p.n_train, p.n_eval, p.steps) for p in plan.stages] == [(s.n_train, s.n_eval, s.steps)
                                                                      for s in result.stages]


def test_adapter_reloads_changes_logits_and_generates(full_run) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cfg, result, _ = full_run
    tok = AutoTokenizer.from_pretrained(str(result.final_dir))
    enc = tok.apply_chat_template([{"role": "user", "content": "Write a 4-bit counter."}], add_generation_prompt=True,
                                  return_dict=True, return_tensors="pt")
    model = AutoModelForCausalLM.from_pretrained(cfg.model.base)
    model.eval()
    with torch.no_grad():
        base_logits = model(**enc).logits
    model.load_adapter(str(result.final_dir))
    with torch.no_grad():
        tuned = model(**enc).logits
    assert (tuned - base_logits).abs().max() > 1e-3  # the adapter weights are really applied
    out = model.generate(**enc, max_new_tokens=8, do_sample=False)
    assert out.shape[1] > enc["input_ids"].shape[1]
    # the folder also loads directly (transformers reads adapter_config.json and fetches the base)
    direct = AutoModelForCausalLM.from_pretrained(str(result.final_dir))
    direct.eval()
    with torch.no_grad():
        assert torch.allclose(direct(**enc).logits, tuned, atol=1e-5)


def test_resume_from_mid_stage_checkpoint_is_exact(full_run, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    cfg_full, result_full, _ = full_run
    cfg = tiny_cpu_config(Path(cfg_full.model.base), tmp_path / "out")

    def crash(ev):
        if ev.kind == "step" and ev.stage == "stage2" and ev.step == 3:
            raise Stop()

    with pytest.raises(Stop):
        run_training(cfg, on_event=crash)
    out = Path(cfg.run.output_dir)
    assert (out / "stage1" / "stage_result.json").is_file()
    assert not (out / "stage2" / "stage_result.json").exists()
    assert (out / "stage2" / "checkpoints" / "step-000002" / "progress.json").is_file()

    with pytest.raises(InputError, match="pass --resume"):
        run_training(cfg)
    # a checkpoint cut off while being written is ignored
    (out / "stage2" / "checkpoints" / "step-000004.tmp").mkdir()
    (out / "stage2" / "checkpoints" / "step-000004.tmp" / "progress.json").write_text("{}")

    events = []
    result = run_training(cfg, resume=True, on_event=events.append)
    assert result.skipped_stages == ("stage1",)
    resumed = [e for e in events if e.kind == "resume"]
    assert len(resumed) == 1 and resumed[0].stage == "stage2" and resumed[0].step == 2
    assert not any(e.kind == "step" and e.stage == "stage2" and e.step <= 2 for e in events)

    a = load_file(str(result_full.final_dir / "adapter_model.safetensors"))
    b = load_file(str(result.final_dir / "adapter_model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)
    for s_full, s_res in zip(result_full.stages, result.stages, strict=True):
        assert s_full.train_losses == pytest.approx(s_res.train_losses, rel=1e-5)

    # everything complete: resume again only rewrites the final folder
    events = []
    again = run_training(cfg, resume=True, on_event=events.append)
    assert again.skipped_stages == ("stage1", "stage2", "stage3", "stage4")
    assert [e.kind for e in events].count("stage_skip") == 4 and "step" not in [e.kind for e in events]
    assert again.trainable_params == result.trainable_params


def test_resume_refuses_a_changed_config(full_run, tmp_path: Path) -> None:
    cfg_full, _, _ = full_run
    first = write_config(tmp_path / "a.toml", Path(cfg_full.model.base), tmp_path / "run", stages=1,
                         train="max_steps = 1")
    run_training(load_config(first))
    changed = write_config(tmp_path / "b.toml", Path(cfg_full.model.base), tmp_path / "run", stages=1,
                           train="max_steps = 2")
    with pytest.raises(InputError, match="different config or data"):
        run_training(load_config(changed), resume=True)


def test_vl_model_trains_text_only_and_reloads(tmp_path: Path) -> None:
    from safetensors.torch import load_file
    from transformers import AutoModelForImageTextToText, AutoTokenizer

    base = cached_model("qwen25_vl")
    cfg = load_config(write_config(tmp_path / "vl.toml", base, tmp_path / "out", stages=2, train="epochs = 4"))
    result = run_training(cfg)
    m = json.loads((result.final_dir / MANIFEST).read_text())
    assert m["model_class"] == "Qwen2_5_VLForConditionalGeneration"
    for s in result.stages:
        assert s.train_losses[-1] < s.train_losses[0]
    # vision MLPs match the default target names too, as in the original CircuitMuse adapter
    keys = load_file(str(result.final_dir / "adapter_model.safetensors")).keys()
    assert any("visual" in k for k in keys) and any("language_model" in k for k in keys)
    tok = AutoTokenizer.from_pretrained(str(result.final_dir))
    enc = tok.apply_chat_template([{"role": "user", "content": "Write a mux."}], add_generation_prompt=True,
                                  return_dict=True, return_tensors="pt")
    model = AutoModelForImageTextToText.from_pretrained(str(base))
    model.eval()
    with torch.no_grad():
        before = model(**enc).logits
        model.load_adapter(str(result.final_dir))
        after = model(**enc).logits
        out = model.generate(**enc, max_new_tokens=6, do_sample=False)
    assert (after - before).abs().max() > 1e-3
    assert out.shape[1] > enc["input_ids"].shape[1]


def test_exclude_modules_trains_the_language_model_only(tmp_path: Path) -> None:
    from circuit_muse.train.config import LoraSettings, ModelSettings
    from circuit_muse.train.qlora import estimate_parameters

    base = str(cached_model("qwen25_vl"))
    both = estimate_parameters(ModelSettings(base=base), LoraSettings(r=4))
    text = estimate_parameters(ModelSettings(base=base), LoraSettings(r=4, exclude_modules=("visual",)))
    assert 0 < text.trainable < both.trainable


def test_eval_split_is_stable_and_never_empty_train() -> None:
    recs = read_records(DATA)
    tr, ev = split_eval(recs, 0.34)
    tr2, ev2 = split_eval(list(reversed(recs)), 0.34)
    assert {r.id for r in ev} == {r.id for r in ev2} and len(ev) == 3
    assert split_eval(recs[:1], 0.5) == (recs[:1], [])
    tr, ev = split_eval(recs[:2], 0.9)
    assert len(tr) == 1 and len(ev) == 1


def test_bad_inputs(tmp_path: Path) -> None:
    base = cached_model("qwen2")
    write_config(tmp_path / "c.toml", base, tmp_path / "out")
    # a stage with no records
    raw = tomllib.loads((tmp_path / "c.toml").read_text())
    raw["data"]["tasks"] = ["assertion"]
    with pytest.raises(InputError, match="stage 'stage1' has no training records"):
        run_training(config_from_mapping(raw, base_dir=tmp_path))
    # a LoRA target the model does not have
    raw = tomllib.loads((tmp_path / "c.toml").read_text())
    raw["lora"]["target_modules"] = ["no_such_proj"]
    with pytest.raises(InputError, match=r"\[lora\] cannot be applied"):
        run_training(config_from_mapping(raw, base_dir=tmp_path))
    # a base folder that does not exist
    raw = tomllib.loads((tmp_path / "c.toml").read_text())
    raw["model"]["base"] = str(tmp_path / "missing_model")
    with pytest.raises(InputError, match="cannot"):
        run_training(config_from_mapping(raw, base_dir=tmp_path))
    # nothing was trained, so the same output folder takes the corrected config without --resume
    raw["model"]["base"] = str(base)
    raw["stages"] = raw["stages"][:1]
    raw["train"]["max_steps"] = 1
    assert run_training(config_from_mapping(raw, base_dir=tmp_path)).stages[0].steps == 1


@pytest.mark.slow
def test_qwen25_vl_7b_defaults_give_the_original_trainable_count() -> None:
    """r=16 on the 7 projections of Qwen2.5-VL-7B (meta device, no weights): 47.59M, the published 47.5M."""
    import importlib.util
    import tempfile

    from circuit_muse.train.config import LoraSettings, ModelSettings
    from circuit_muse.train.qlora import estimate_parameters

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "train_speed.py"
    spec = importlib.util.spec_from_file_location("train_speed", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with tempfile.TemporaryDirectory() as d:
        mod.build_config(mod.qwen25_vl_7b_config_dict()).save_pretrained(d)
        pc = estimate_parameters(ModelSettings(base=d), LoraSettings())
    assert pc.trainable == 47_589_376
    assert 8.29e9 < pc.total - pc.trainable < 8.30e9
