"""The hf backend on tiny local models of every folder shape (built by the tests; no downloads)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytestmark = pytest.mark.model

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from circuit_muse.errors import ModelError  # noqa: E402
from circuit_muse.models import (  # noqa: E402
    AdapterLoadError,
    GenerationRequest,
    HFModel,
    Message,
    get_model,
    hf_backend,  # noqa: E402
)
from circuit_muse.models.folder_kind import inspect_folder  # noqa: E402
from tests.support.tiny_models import HUB_BASE_QWEN2, HUB_BASE_VL, TinyModels, tiny_models  # noqa: E402

PROMPT = [Message("system", "You write Verilog."), Message("user", "Write a 4-bit counter with synchronous reset.")]


@pytest.fixture(scope="session")
def tiny() -> TinyModels:
    return tiny_models()


_LOADED: dict[tuple, HFModel] = {}


def load(folder: Path, **options) -> HFModel:
    """Load once per test session (tiny models, but loading still costs time). CPU even where a GPU is."""
    options.setdefault("device", "cpu")
    key = (str(folder), tuple(sorted(options.items())))
    if key not in _LOADED:
        model = get_model(f"hf:{folder}", **options)
        assert isinstance(model, HFModel)
        _LOADED[key] = model.load()
    return _LOADED[key]


def req(**kw) -> GenerationRequest:
    kw.setdefault("max_new_tokens", 12)
    return GenerationRequest(list(PROMPT), **kw)


def logits(model: HFModel, text: str = "module counter(input clk") -> torch.Tensor:
    ids = model.tokenizer(text, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return model.model(input_ids=ids).logits[0].float()


# ------------------------------------------------------------------ every folder shape


SHAPES = [
    # (fixture attribute, options, kind, model class, adapter tensors (text, vision))
    ("qwen2", {}, "full", "Qwen2ForCausalLM", None),
    ("qwen2_json_template", {}, "full", "Qwen2ForCausalLM", None),
    ("qwen2_lora", {}, "adapter", "Qwen2ForCausalLM", (28, 0)),
    ("qwen2_lora_hub_base", {"base_model": "qwen2"}, "adapter", "Qwen2ForCausalLM", (28, 0)),
    ("qwen2_merged", {}, "full", "Qwen2ForCausalLM", None),
    ("qwen25vl", {}, "full", "Qwen2_5_VLForConditionalGeneration", None),
    ("qwen_verilog_stage4_final", {"base_model": "qwen25vl"}, "adapter", "Qwen2_5_VLForConditionalGeneration",
     (28, 6)),
    ("qwen25vl_merged", {}, "full", "Qwen2_5_VLForConditionalGeneration", None),
]


@pytest.mark.parametrize(("name", "options", "kind", "cls", "adapter"), SHAPES, ids=[s[0] for s in SHAPES])
def test_every_folder_shape_loads_and_streams(tiny, name, options, kind, cls, adapter):
    options = {k: str(getattr(tiny, v)) for k, v in options.items()}
    model = load(getattr(tiny, name), **options)
    assert model.folder.kind == kind
    assert type(model.model).__name__ == cls
    assert model.describe()["device"] == "cpu" and model.describe()["dtype"] == "float32"
    assert model.describe()["quantization"] == "none"
    if adapter is None:
        assert model.adapter_report is None
    else:
        text_tensors, vision_tensors = adapter
        assert model.adapter_report["tensors"] == text_tensors + vision_tensors
        assert model.adapter_report["vision_tensors"] == vision_tensors
    chunks = []
    result = model.stream(req(n=3, seed=11, temperature=1.0), chunks.append)
    assert [c.index for c in result.completions] == [0, 1, 2]
    for c in result.completions:
        assert "".join(ch.text for ch in chunks if ch.index == c.index) == c.text
        assert 1 <= c.completion_tokens <= 12
        assert c.finish_reason in ("stop", "length")
    assert {ch.index for ch in chunks} == {0, 1, 2}
    assert len(set(result.texts)) == 3, "three samples of a random model should differ"
    assert result.prompt_tokens == model.prompt_ids(req())[0].shape[1]
    assert result.time_to_first_token_s is not None and 0 < result.time_to_first_token_s <= result.duration_s


def test_prompt_goes_through_the_chat_template(tiny):
    for name in ("qwen2", "qwen2_json_template"):
        model = load(getattr(tiny, name))
        ids, mask = model.prompt_ids(req())
        text = model.tokenizer.decode(ids[0])
        assert text == ("<|im_start|>system\nYou write Verilog.<|im_end|>\n<|im_start|>user\nWrite a 4-bit counter "
                        "with synchronous reset.<|im_end|>\n<|im_start|>assistant\n")
        assert mask.sum() == ids.shape[1]
    vl = load(tiny.qwen25vl)
    assert vl.tokenizer.decode(vl.prompt_ids(req())[0][0]).endswith("<|im_start|>assistant\n")


# ------------------------------------------------------------------ adapters really load


PEFT_DEPRECATION = "ignore:.*is_gradient_checkpointing.*:FutureWarning"  # peft 0.21 on transformers 5


@pytest.mark.filterwarnings(PEFT_DEPRECATION)
def test_lora_adapter_changes_logits_and_matches_peft_and_merge(tiny):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = load(tiny.qwen2)
    adapted = load(tiny.qwen2_lora)
    merged = load(tiny.qwen2_merged)
    lb, la, lm = logits(base), logits(adapted), logits(merged)
    assert (la - lb).abs().max() > 1e-2, "the adapter did not change the logits"
    torch.testing.assert_close(lm, la, atol=1e-4, rtol=1e-4)
    # Independent reference: PEFT itself (correct for plain Qwen2 adapters).
    ref = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny.qwen2, local_files_only=True),
                                    str(tiny.qwen2_lora)).eval()
    ids = adapted.tokenizer("module counter(input clk", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(ref(input_ids=ids).logits[0].float(), la, atol=1e-5, rtol=1e-5)


@pytest.mark.filterwarnings(PEFT_DEPRECATION)
def test_unsloth_vl_adapter_loads_where_peft_loads_nothing(tiny, tmp_path):
    """The trap: PeftModel.from_pretrained on a pre-4.52 Qwen2.5-VL adapter equals the base model."""
    from peft import PeftModel
    from safetensors.torch import load_file, save_file
    from transformers import AutoModelForImageTextToText

    base = load(tiny.qwen25vl)
    adapted = load(tiny.qwen_verilog_stage4_final, base_model=str(tiny.qwen25vl))
    lb, la = logits(base), logits(adapted)
    assert (la - lb).abs().max() > 1e-2

    ids = adapted.tokenizer("module counter(input clk", return_tensors="pt")["input_ids"]
    local = tmp_path / "stage4_local_base"
    shutil.copytree(tiny.qwen_verilog_stage4_final, local)
    cfg = json.loads((local / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = str(tiny.qwen25vl)
    (local / "adapter_config.json").write_text(json.dumps(cfg))
    with pytest.warns(UserWarning, match="missing adapter keys"):  # only a warning, as the note says
        trap = PeftModel.from_pretrained(
            AutoModelForImageTextToText.from_pretrained(tiny.qwen25vl, local_files_only=True), str(local)).eval()
    with torch.no_grad():
        torch.testing.assert_close(trap(input_ids=ids).logits[0].float(), lb)  # loaded nothing, as the note says

    # Reference: the same weights renamed to today's layout, which PEFT does load.
    weights = load_file(local / "adapter_model.safetensors")
    renamed = {k.replace("base_model.model.model.", "base_model.model.model.language_model.")
                .replace("base_model.model.visual.", "base_model.model.model.visual."): v for k, v in weights.items()}
    save_file(renamed, local / "adapter_model.safetensors")
    ref = PeftModel.from_pretrained(
        AutoModelForImageTextToText.from_pretrained(tiny.qwen25vl, local_files_only=True), str(local)).eval()
    with torch.no_grad():
        torch.testing.assert_close(ref(input_ids=ids).logits[0].float(), la, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(logits(load(tiny.qwen25vl_merged)), la, atol=1e-4, rtol=1e-4)


def test_adapter_whose_keys_match_nothing_is_an_error(tiny, tmp_path):
    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken_adapter"
    shutil.copytree(tiny.qwen_verilog_stage4_final, broken)
    weights = load_file(broken / "adapter_model.safetensors")
    save_file({k.replace("layers", "lay3rs").replace("blocks", "bl0cks"): v for k, v in weights.items()},
              broken / "adapter_model.safetensors")
    model = get_model(f"hf:{broken}", base_model=str(tiny.qwen25vl))
    with pytest.raises(AdapterLoadError, match="unloaded|not those in"):
        model.load()


def test_adapter_check_catches_weights_that_are_not_the_files(tiny, tmp_path):
    """Whatever the transformers version reports, a model whose LoRA weights differ from the file fails."""
    from circuit_muse.models.adapter_check import verify_adapter_loaded

    model = load(tiny.qwen2_lora).model
    report = verify_adapter_loaded(model, tiny.qwen2_lora)
    assert report == {"tensors": 28, "parameters": 16384, "vision_tensors": 0}
    other = load(tiny.qwen2_lora_hub_base, base_model=str(tiny.qwen2)).model  # same shapes, other values
    with pytest.raises(AdapterLoadError, match="not those in"):
        verify_adapter_loaded(other, tiny.qwen2_lora)


def test_hub_id_base_needs_a_local_override(tiny, monkeypatch):
    monkeypatch.delenv("CIRCUIT_MUSE_BASE_MODEL", raising=False)
    with pytest.raises(ModelError) as info:
        get_model(f"hf:{tiny.qwen2_lora_hub_base}")
    msg = str(info.value)
    assert HUB_BASE_QWEN2 in msg and "never downloads" in msg and "base_model=" in msg
    assert "CIRCUIT_MUSE_BASE_MODEL" in msg
    with pytest.raises(ModelError, match=HUB_BASE_VL.replace(".", r"\.")):
        get_model(f"hf:{tiny.qwen_verilog_stage4_final}")
    with pytest.raises(ModelError, match="is not a local folder with a config.json"):
        get_model(f"hf:{tiny.qwen2_lora_hub_base}", base_model=str(tiny.root / "nowhere"))
    monkeypatch.setenv("CIRCUIT_MUSE_BASE_MODEL", str(tiny.qwen2))
    folder = inspect_folder(tiny.qwen2_lora_hub_base)
    assert folder.kind == "adapter" and folder.weights_path == tiny.qwen2.resolve()
    assert folder.tokenizer_path == tiny.qwen2.resolve()  # the adapter folder holds no tokenizer
    assert folder.base_name == HUB_BASE_QWEN2


def test_base_model_option_on_a_full_model_is_an_error(tiny):
    with pytest.raises(ModelError, match="only applies to LoRA adapter folders"):
        get_model(f"hf:{tiny.qwen2}", base_model=str(tiny.qwen2))


def test_local_base_path_in_adapter_config_is_used(tiny):
    folder = inspect_folder(tiny.qwen2_lora)
    assert folder.kind == "adapter" and folder.weights_path == tiny.qwen2.resolve()
    assert folder.tokenizer_path == tiny.qwen2_lora.resolve()


# ------------------------------------------------------------------ sampling


def test_seeded_sampling_repeats_and_differs(tiny):
    model = load(tiny.qwen2)
    a = model.generate(req(n=2, seed=5, temperature=1.0))
    b = model.generate(req(n=2, seed=5, temperature=1.0))
    c = model.generate(req(n=2, seed=6, temperature=1.0))
    assert a.texts == b.texts
    assert a.texts != c.texts
    assert a.texts[0] != a.texts[1]


def test_greedy_is_deterministic_and_equals_argmax(tiny):
    model = load(tiny.qwen2)
    chunks = []
    result = model.stream(req(n=2, temperature=0, max_new_tokens=6), chunks.append)
    assert result.texts[0] == result.texts[1]
    assert "".join(c.text for c in chunks if c.index == 1) == result.texts[1]
    ids, _ = model.prompt_ids(req())
    expected = []
    with torch.no_grad():
        for _ in range(6):
            nxt = model.model(input_ids=ids).logits[0, -1].argmax().item()
            if nxt in model._eos_ids:
                break
            expected.append(nxt)
            ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
    assert result.texts[0] == model.tokenizer.decode(expected, skip_special_tokens=True)
    assert result.completions[0].completion_tokens == len(expected) + (len(expected) < 6)


def test_max_new_tokens_and_ignore_eos(tiny):
    model = load(tiny.qwen2, ignore_eos=True)
    result = model.generate(req(n=4, seed=1, temperature=1.5, max_new_tokens=9))
    assert [c.completion_tokens for c in result.completions] == [9, 9, 9, 9]
    assert [c.finish_reason for c in result.completions] == ["length"] * 4


def test_stop_strings_cut_text_and_stream(tiny):
    model = load(tiny.qwen2)
    free = model.generate(req(temperature=0, max_new_tokens=16)).texts[0]
    stop = free[6:9]
    assert len(stop) == 3 and stop in free
    chunks = []
    result = model.stream(req(temperature=0, max_new_tokens=16, stop=[stop]), chunks.append)
    c = result.completions[0]
    assert c.text == free[: free.index(stop)]
    assert c.finish_reason == "stop"
    assert "".join(ch.text for ch in chunks) == c.text
    assert stop not in "".join(ch.text for ch in chunks)


def test_eos_and_padding_end_a_row(tiny):
    model = load(tiny.qwen2)
    tok = model.tokenizer
    eos, pad = model._eos_ids[0], model._pad_id
    words = tok("module dff", add_special_tokens=False)["input_ids"]
    assert model._finish(words + [eos, pad, pad], [], 8) == ("module dff", len(words) + 1, "stop")
    assert model._finish(words + [pad, pad], [], 8) == ("module dff", len(words), "stop")
    long = (words * 8)[:8]
    text, count, finish = model._finish(long, [], 8)
    assert (count, finish) == (8, "length")
    assert model._finish(words, [" dff"], 8)[0::2] == ("module", "stop")


def test_streamer_stops_rows_at_eos_and_holds_back_stop_prefixes(tiny):
    model = load(tiny.qwen2)
    tok = model.tokenizer
    eos, pad = model._eos_ids[0], model._pad_id
    a = tok("module counter", add_special_tokens=False)["input_ids"]
    b = tok("assign y = a;", add_special_tokens=False)["input_ids"]
    sent = []
    streamer = hf_backend._SequenceStreamer(tok, 2, [eos], [" = a"], lambda row, text: sent.append((row, text)))
    streamer.put(torch.zeros((2, 3), dtype=torch.long))  # the prompt
    steps = max(len(a) + 1, len(b))
    for i in range(steps + 2):
        row0 = a[i] if i < len(a) else (eos if i == len(a) else pad)
        row1 = b[i] if i < len(b) else pad
        streamer.put(torch.tensor([row0, row1]))
    assert "".join(t for r, t in sent if r == 0) == "module counter"
    assert "".join(t for r, t in sent if r == 1) == "assign y"
    assert streamer.done == [True, True]
    assert streamer.first_token_at is not None


# ------------------------------------------------------------------ templates, options, errors


def test_missing_chat_template_is_an_error_and_the_option_fixes_it(tiny, tmp_path):
    folder = tmp_path / "no_template"
    shutil.copytree(tiny.qwen2_json_template, folder)
    (folder / "chat_template.json").unlink()
    with pytest.raises(ModelError, match="No chat template.*chat_template.json"):
        get_model(f"hf:{folder}").load()
    template = tmp_path / "t.jinja"
    template.write_text("{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
                        "{% if add_generation_prompt %}[assistant] {% endif %}")
    model = get_model(f"hf:{folder}", chat_template=str(template))
    ids, _ = model.prompt_ids(GenerationRequest([Message("user", "hello")]))
    assert model.tokenizer.decode(ids[0]) == "[user] hello\n[assistant] "
    with pytest.raises(ModelError, match="not a file"):
        get_model(f"hf:{folder}", chat_template=str(tmp_path / "absent.jinja"))


def test_chat_template_json_in_list_form(tiny, tmp_path):
    folder = tmp_path / "list_template"
    shutil.copytree(tiny.qwen2_json_template, folder)
    template = json.loads((folder / "chat_template.json").read_text())["chat_template"]
    (folder / "chat_template.json").write_text(json.dumps(
        {"chat_template": [{"name": "tool_use", "template": "x"}, {"name": "default", "template": template}]}))
    model = get_model(f"hf:{folder}")
    assert model.tokenizer.chat_template == template


def test_pre_quantized_folder(tiny, tmp_path, monkeypatch):
    folder = tmp_path / "bnb4"
    shutil.copytree(tiny.qwen2, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["quantization_config"] = {"quant_method": "bitsandbytes", "load_in_4bit": True,
                                  "bnb_4bit_quant_type": "nf4"}
    (folder / "config.json").write_text(json.dumps(cfg))
    info = inspect_folder(folder)
    assert info.kind == "quantized" and info.quant_method == "bitsandbytes"
    with pytest.raises(ModelError, match="pre-quantized .bitsandbytes. model; it cannot be loaded unquantized"):
        get_model(f"hf:{folder}", quantization="none").load()
    real = hf_backend._has_module
    monkeypatch.setattr(hf_backend, "_has_module", lambda name: False if name == "bitsandbytes" else real(name))
    with pytest.raises(ModelError, match=r"needs bitsandbytes: pip install bitsandbytes==0\.50\.2"):
        get_model(f"hf:{folder}").load()


def test_nf4_without_bitsandbytes_says_how_to_fix(tiny, monkeypatch):
    real = hf_backend._has_module
    monkeypatch.setattr(hf_backend, "_has_module", lambda name: False if name == "bitsandbytes" else real(name))
    with pytest.raises(ModelError, match="quantization='none'"):
        get_model(f"hf:{tiny.qwen2}", quantization="nf4").load()


def test_cuda_request_without_gpu(tiny):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ModelError, match="sees no CUDA GPU"):
        get_model(f"hf:{tiny.qwen2}", device="cuda").load()


def test_bf16_on_cpu(tiny):
    model = load(tiny.qwen2, dtype="bfloat16")
    assert next(model.model.parameters()).dtype == torch.bfloat16
    assert model.describe()["dtype"] == "bfloat16"
    assert len(model.generate(req(n=2, seed=3, temperature=1.0)).completions) == 2


def test_folder_without_tokenizer(tiny, tmp_path):
    folder = tmp_path / "weights_only"
    folder.mkdir()
    for name in ("config.json", "model.safetensors", "generation_config.json"):
        shutil.copy2(tiny.qwen2 / name, folder / name)
    with pytest.raises(ModelError, match="no tokenizer files"):
        get_model(f"hf:{folder}")


def test_adapter_without_weights(tiny, tmp_path):
    folder = tmp_path / "config_only"
    folder.mkdir()
    shutil.copy2(tiny.qwen2_lora / "adapter_config.json", folder / "adapter_config.json")
    with pytest.raises(ModelError, match="no adapter_model.safetensors"):
        get_model(f"hf:{folder}")


def test_no_hub_access_even_without_the_env_var(tiny):
    """Loading every shape in a fresh process with HF_HUB_OFFLINE unset and no network stays local and quick."""
    code = (
        "import sys, time; from circuit_muse.models import get_model, GenerationRequest, Message;"
        f"m = get_model('hf:{tiny.qwen_verilog_stage4_final}', base_model='{tiny.qwen25vl}');"
        "t = time.time(); r = m.generate(GenerationRequest([Message('user', 'hi')], max_new_tokens=3));"
        "import os; print(os.environ.get('HF_HUB_OFFLINE'), len(r.completions), round(time.time() - t, 1))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HTTPS_PROXY"] = env["HTTP_PROXY"] = "http://127.0.0.1:9"  # any hub call would fail fast
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    offline, count, seconds = out.stdout.split()
    assert offline == "1" and count == "1"


def test_static_cache_gives_the_same_samples(tiny):
    """cache="static" (the fast path on CUDA) must not change what is generated for a given seed."""
    req = GenerationRequest([Message("user", "module counter")], n=2, max_new_tokens=8, temperature=1.0, seed=3)
    dynamic = get_model(f"hf:{tiny.qwen2}", device="cpu").generate(req)
    static = get_model(f"hf:{tiny.qwen2}", device="cpu", cache="static").generate(req)
    assert dynamic.texts == static.texts and all(c.completion_tokens == 8 for c in static.completions)
