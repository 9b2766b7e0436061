"""The hf backend's fast decode path (circuit_muse.models.fast_decode) on the CPU, against transformers' generate.

On the CPU the fast path runs its loop without CUDA graphs (``decode="loop"``); the GPU tests
(test_fast_decode_gpu.py) check the captured graphs against the same eager path.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytestmark = pytest.mark.model

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from circuit_muse.errors import ModelError  # noqa: E402
from circuit_muse.models import GenerationRequest, HFModel, Message, get_model  # noqa: E402
from circuit_muse.models.fast_decode import (  # noqa: E402
    FastDecoder,
    FastDecodeUnsupported,
    Sampling,
    _add_rms_norm,
    _Lookup,
    _rope_pair,
    _silu_mul,
    batch_bucket,
    length_bucket,
    sampling_from_generation_config,
)
from circuit_muse.models.int4 import Int4Linear, dequantize, quantize_weight  # noqa: E402
from circuit_muse.nano import model_spec  # noqa: E402
from tests.support.tiny_models import TinyModels, tiny_models  # noqa: E402

PROMPT = [Message("system", "You write Verilog."), Message("user", "Write a 4-bit counter with synchronous reset.")]
LONGER = [Message("system", "You write Verilog."),
          Message("user", "Write a 4-bit counter with synchronous reset. " * 6 + "Use one always block.")]


@pytest.fixture(scope="module")
def tiny() -> TinyModels:
    return tiny_models()


_LOADED: dict[tuple, HFModel] = {}


def load(folder: Path | str, **options) -> HFModel:
    options.setdefault("device", "cpu")
    key = (str(folder), tuple(sorted(options.items())))
    if key not in _LOADED:
        spec = folder if str(folder).startswith("hf:") else f"hf:{folder}"
        model = get_model(spec, **options)
        assert isinstance(model, HFModel)
        _LOADED[key] = model.load()
    return _LOADED[key]


def req(messages=PROMPT, **kw) -> GenerationRequest:
    kw.setdefault("max_new_tokens", 12)
    return GenerationRequest(list(messages), **kw)


# ------------------------------------------------------------------ greedy parity with generate


@pytest.mark.parametrize("name", ["qwen2", "qwen25vl", "qwen2_lora", "qwen_verilog_stage4_final"])
def test_greedy_tokens_equal_generate_across_prompt_lengths_in_one_bucket(tiny, name):
    extra = {"base_model": str(tiny.qwen25vl)} if name == "qwen_verilog_stage4_final" else {}
    eager = load(getattr(tiny, name), decode="eager", **extra)
    fast = load(getattr(tiny, name), decode="loop", **extra)
    slots = set()
    for messages in (PROMPT, LONGER):
        for max_new in (1, 7, 40):
            r = req(messages, temperature=0, max_new_tokens=max_new)
            a, b = eager.generate(r), fast.generate(r)
            assert b.extra["decode"] == "loop" and a.extra["decode"] == "eager"
            assert b.texts == a.texts, (messages[1].content[:20], max_new)
            assert [(c.completion_tokens, c.finish_reason) for c in b.completions] == \
                   [(c.completion_tokens, c.finish_reason) for c in a.completions]
            slots.add(tuple(b.extra["slot"]))
    assert eager.prompt_ids(req(LONGER))[0].shape[1] > eager.prompt_ids(req(PROMPT))[0].shape[1] + 20
    assert slots == {(1, 256)}  # both prompt lengths and every budget reuse one cache bucket


@pytest.mark.parametrize("name", ["qwen2_lora", "qwen25vl"])
def test_fused_pieces_between_adapted_linears_keep_greedy_tokens(tiny, name):
    """decode=compile on quantized or LoRA layers fuses rope, residual + norm and the SiLU gate between their
    linears. Here the pieces run uncompiled (compiling is the GPU tests' job): the wiring must not change a token."""
    eager = load(getattr(tiny, name), decode="eager")
    fast = load(getattr(tiny, name), decode="loop")
    decoder: FastDecoder = fast._fast_decoder("loop")
    decoder._pieces = {"rope": _rope_pair, "add_norm": _add_rms_norm, "silu_mul": _silu_mul}
    try:
        assert decoder.compiled
        for messages in (PROMPT, LONGER):
            r = req(messages, temperature=0, max_new_tokens=40)
            assert fast.generate(r).texts == eager.generate(r).texts
    finally:
        decoder._pieces = None


def test_batch_rows_greedy_equal_one_row(tiny):
    """Rows in a batch bucket (3 rows in a bucket of 4) decode exactly like one row: shared prefill, copied cache."""
    model = load(tiny.qwen25vl, decode="loop")
    ids = model.prompt_ids(req())[0][0].tolist()
    fast: FastDecoder = model._fast_decoder("loop")
    one = fast.generate(ids, rows=1, max_new_tokens=30, sampling=Sampling(greedy=True))
    three = fast.generate(ids, rows=3, max_new_tokens=30, sampling=Sampling(greedy=True))
    assert three.slot[0] == 4 and one.slot[0] == 1
    assert three.tokens == [one.tokens[0]] * 3
    assert three.finish == [one.finish[0]] * 3


def test_logits_of_the_hand_written_forward_match_the_model(tiny):
    model = load(tiny.qwen25vl, decode="loop")
    fast: FastDecoder = model._fast_decoder("loop")
    ids = model.prompt_ids(req(LONGER))[0]
    with torch.no_grad():
        ref = model.model(input_ids=ids).logits[0, -1].float()
    slot = fast.slot(1, ids.shape[1] + 1)
    with torch.inference_mode():
        got = fast._forward([(k[:1], v[:1]) for k, v in slot.kv], ids, torch.arange(ids.shape[1]), prefill=True)[0]
    assert torch.allclose(got, ref, atol=1e-4, rtol=1e-4), (got - ref).abs().max()


def test_repetition_penalty_and_stop_strings_match_generate(tiny):
    eager = get_model(f"hf:{tiny.qwen2}", device="cpu", decode="eager").load()
    fast = get_model(f"hf:{tiny.qwen2}", device="cpu", decode="loop").load()
    for m in (eager, fast):
        m.model.generation_config.repetition_penalty = 1.7
    r = req(temperature=0, max_new_tokens=24)
    a, b = eager.generate(r), fast.generate(r)
    assert b.extra["decode"] == "loop" and b.texts == a.texts
    plain = load(tiny.qwen2, decode="eager").generate(r)
    assert plain.texts != a.texts  # the penalty changed the output, so the parity above means something
    text = a.texts[0]
    stop = text[5:8]
    chunks = []
    rs = req(temperature=0, max_new_tokens=24, stop=[stop])
    b = fast.stream(rs, chunks.append)
    assert b.texts == eager.generate(rs).texts == [text[: text.index(stop)]]
    assert b.completions[0].finish_reason == "stop" and "".join(c.text for c in chunks) == b.texts[0]


# ------------------------------------------------------------------ sampling


def test_seeded_samples_repeat_stream_and_differ(tiny):
    model = load(tiny.qwen2, decode="loop")
    chunks = []
    a = model.stream(req(n=3, seed=5, temperature=1.0, max_new_tokens=20), chunks.append)
    b = model.generate(req(n=3, seed=5, temperature=1.0, max_new_tokens=20))
    c = model.generate(req(n=3, seed=6, temperature=1.0, max_new_tokens=20))
    assert a.extra["decode"] == "loop" and a.extra["slot"] == [4, 256]
    assert a.texts == b.texts and a.texts != c.texts
    assert len(set(a.texts)) == 3
    for comp in a.completions:
        assert "".join(ch.text for ch in chunks if ch.index == comp.index) == comp.text
        assert 1 <= comp.completion_tokens <= 20
    assert a.time_to_first_token_s is not None and 0 < a.time_to_first_token_s <= a.duration_s


def test_ignore_eos_decodes_every_token(tiny):
    model = load(tiny.qwen2, decode="loop", ignore_eos=True)
    result = model.generate(req(n=4, seed=1, temperature=1.5, max_new_tokens=9))
    assert [c.completion_tokens for c in result.completions] == [9, 9, 9, 9]
    assert [c.finish_reason for c in result.completions] == ["length"] * 4


def test_sampling_filters_follow_transformers_semantics():
    torch.manual_seed(0)
    logits = torch.randn(4, 50)

    class _S:  # the slot fields _sample reads
        temperature = torch.ones(4, 1)
        top_p = torch.full((4, 1), 1e-6)
        penalty = torch.tensor(1.0)

    fast = FastDecoder.__new__(FastDecoder)
    fast.eos = torch.tensor([0])
    top = logits.argmax(-1)
    # top-p that keeps one token, and top-k = 1, both leave only the argmax
    for mode in [(False, 0, True, False, False), (False, 1, False, False, False)]:
        for _ in range(5):
            assert torch.equal(fast._sample(logits, _S, mode, None), top)
    # EOS suppressed: never drawn even when it is the argmax
    logits[:, 0] = 100.0
    assert (fast._sample(logits, _S, (True, 0, False, False, True), None) != 0).all()
    # a plain draw follows the distribution: a 2-token case, 4000 draws
    two = torch.tensor([[0.0, 1.0]]).expand(4000, 2)
    _S.temperature = torch.ones(4000, 1)
    drawn = fast._sample(two, _S, (False, 0, False, False, False), None).float().mean().item()
    assert abs(drawn - torch.tensor([0.0, 1.0]).softmax(0)[1].item()) < 0.03


def test_generation_configs_the_fast_path_lacks_fall_back_to_generate(tiny):
    model = get_model(f"hf:{tiny.qwen2}", device="cpu", decode="loop").load()
    model.model.generation_config.no_repeat_ngram_size = 2
    result = model.generate(req(temperature=0))
    assert result.extra["decode"] == "eager"
    assert "no_repeat_ngram_size" in result.extra["fast_path_declined"]
    cfg = model.model.generation_config
    with pytest.raises(FastDecodeUnsupported, match="min_new_tokens"):
        cfg.no_repeat_ngram_size = 0
        cfg.min_new_tokens = 3
        sampling_from_generation_config(cfg, max_new_tokens=10, prompt_tokens=5)


def test_decode_options_are_strict_and_cpu_default_is_generate(tiny):
    with pytest.raises(ModelError, match="decode"):
        get_model(f"hf:{tiny.qwen2}", decode="fast")
    with pytest.raises(ModelError, match="prompt_lookup"):
        get_model(f"hf:{tiny.qwen2}", prompt_lookup=-1)
    auto = load(tiny.qwen2)
    assert auto.decode_path() == "eager"  # no CUDA: transformers' generate, exactly as before
    assert auto.generate(req(temperature=0)).extra["decode"] == "eager"
    assert load(tiny.qwen2, decode="graph").decode_path() == "loop"  # graphs need CUDA: same loop without
    assert load(tiny.qwen2, decode="graph").warmup([req()])["captured"] == []


def test_unsupported_architecture_is_refused_cleanly(tiny):
    model = load(tiny.qwen2, decode="loop")
    model.model.config.model_type = "llama"
    try:
        with pytest.raises(FastDecodeUnsupported, match="model type"):
            FastDecoder(model.model, eos_ids=[0])
    finally:
        model.model.config.model_type = "qwen2"


def test_buckets():
    assert [batch_bucket(n) for n in (1, 2, 3, 5, 8, 9)] == [1, 2, 4, 8, 8, 16]
    assert [length_bucket(n) for n in (1, 256, 257, 1500)] == [256, 256, 512, 2048]
    assert length_bucket(3000, max_positions=4096) == 4096 and length_bucket(3000, max_positions=3500) == 3072
    with pytest.raises(FastDecodeUnsupported):
        length_bucket(5000, max_positions=4096)
    with pytest.raises(FastDecodeUnsupported):
        batch_bucket(65)


# ------------------------------------------------------------------ prompt lookup


def test_lookup_follows_the_copy_it_started():
    prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 3, 4, 99]
    look = _Lookup(prompt, k=4)
    look.extend([2, 3, 4])  # "2 3 4" occurs at the start: the copy continues with 5 6 7 8
    assert look.draft() == [5, 6, 7, 8]
    look.extend([5, 6])
    assert look.draft() == [7, 8, 9, 10]  # the pointer moved with the accepted tokens
    look.extend([42])  # divergence: 42 never occurred, no draft
    assert look.draft() is None
    look.extend([3, 4])  # the latest earlier "3 4" is the output's own, followed by 5 6 42 3
    assert look.draft() == [5, 6, 42, 3]


TRAFFIC = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "generation_speed_repair_traffic.json"


@pytest.fixture(scope="module")
def repair_request() -> GenerationRequest:
    """A real round-2 request the loop sent the shipped nano model: its round-1 answer and the engine's feedback."""
    item = json.loads(TRAFFIC.read_text())["requests"][0]
    messages = [Message(m["role"], m["content"]) for m in item["messages"]]
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    return GenerationRequest(messages, temperature=0, max_new_tokens=160)


def test_prompt_lookup_keeps_greedy_output_and_saves_steps(repair_request):
    eager = load(model_spec(), decode="eager")
    plain = load(model_spec(), decode="loop", prompt_lookup=0)
    auto = load(model_spec(), decode="loop")  # the conversation holds an answer: lookup on by default
    a, b, c = eager.generate(repair_request), plain.generate(repair_request), auto.generate(repair_request)
    assert a.texts == b.texts == c.texts
    assert b.extra["prompt_lookup"] == 0 and c.extra["prompt_lookup"] == 8
    tokens = c.completions[0].completion_tokens
    assert b.extra["steps"] == tokens - 1
    assert c.extra["lookup_accepted"] > 0 and c.extra["steps"] < 0.8 * (tokens - 1), c.extra


def test_prompt_lookup_samples_repeat_with_a_seed(repair_request):
    model = load(model_spec(), decode="loop")
    r = GenerationRequest(repair_request.messages, n=3, temperature=0.8, seed=4, max_new_tokens=60)
    a, b = model.generate(r), model.generate(r)
    assert a.texts == b.texts and a.extra["lookup_steps"] > 0
    assert all(c.completion_tokens <= 60 for c in a.completions)


# ------------------------------------------------------------------ int4


def test_int4_linear_matches_its_dequantised_weight():
    torch.manual_seed(0)
    lin = torch.nn.Linear(256, 64, bias=True)
    q, scales, zeros = quantize_weight(lin.weight, 32)
    assert q.min() >= 0 and q.max() <= 15
    w = dequantize(q, scales, zeros, 32)
    assert (w - lin.weight).abs().max() <= scales.max() * 0.5 + 1e-6  # round to nearest within a step
    layer = Int4Linear(lin, 32, 2)
    x = torch.randn(3, 5, 256)
    ref = x.bfloat16().float() @ w.t() + lin.bias.bfloat16().float()
    got = layer(x)
    assert got.shape == (3, 5, 64) and got.dtype == x.dtype
    assert ((got - ref).norm() / ref.norm()) < 1e-2


def test_int4_quantization_loads_and_decodes(tiny):
    full = load(tiny.qwen2, dtype="bfloat16", quantization="none")
    q4 = load(tiny.qwen2, quantization="int4", decode="loop")
    assert q4.quantization == "int4" and q4.dtype == "bfloat16"
    assert q4.int4_report["replaced"] == 2 * 7 and q4.int4_report["check_relative_error"] < 2e-2
    assert sum(isinstance(m, Int4Linear) for m in q4.model.modules()) == 14
    ids = full.prompt_ids(req())[0]
    with torch.no_grad():
        a = full.model(input_ids=ids).logits[0].float()
        b = q4.model(input_ids=ids).logits[0].float()
    cos = torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim=0)
    assert cos > 0.95, cos
    r = req(n=2, seed=3, temperature=1.0, max_new_tokens=10)
    out = q4.generate(r)
    assert out.extra["decode"] == "loop" and out.texts == q4.generate(r).texts
    eager4 = load(tiny.qwen2, quantization="int4", decode="eager")
    assert eager4.generate(req(temperature=0)).texts == q4.generate(req(temperature=0)).texts
