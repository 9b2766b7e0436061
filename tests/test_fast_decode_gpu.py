"""The fast decode path on a CUDA GPU: captured graphs give the eager path's tokens (device machine only).

Collected only with CIRCUIT_MUSE_GPU_TESTS=1 (see conftest); skips itself without CUDA. fp32 tiny models, so
that greedy decoding has no near-ties from rounding and "equal tokens" is a fair check.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytestmark = [pytest.mark.gpu, pytest.mark.model]

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
if not torch.cuda.is_available():
    pytest.skip("needs a CUDA GPU", allow_module_level=True)

from circuit_muse.models import GenerationRequest, HFModel, Message, get_model  # noqa: E402
from circuit_muse.models.fast_decode import FastDecoder, Sampling  # noqa: E402
from circuit_muse.nano import model_spec  # noqa: E402
from tests.support.tiny_models import tiny_models  # noqa: E402

PROMPT = [Message("system", "You write Verilog."), Message("user", "Write a 4-bit counter with synchronous reset.")]
LONGER = [Message("system", "You write Verilog."),
          Message("user", "Write a 4-bit counter with synchronous reset. " * 6 + "Use one always block.")]
TRAFFIC = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "generation_speed_repair_traffic.json"


@pytest.fixture(scope="module")
def tiny():
    return tiny_models()


def _pair(folder, decode: str = "graph", **options) -> tuple[HFModel, HFModel]:
    spec = str(folder) if str(folder).startswith("hf:") else f"hf:{folder}"
    base = dict(device="cuda", quantization="none", dtype="float32", **options)
    return get_model(spec, decode="eager", **base).load(), get_model(spec, decode=decode, **base).load()


@pytest.mark.parametrize(("name", "decode"), [("qwen2", "graph"), ("qwen25vl", "graph"), ("qwen2_lora", "graph"),
                                              ("qwen2", "compile"), ("qwen25vl", "compile"),
                                              ("qwen2_lora", "compile")])
def test_graph_tokens_equal_eager_tokens_with_bucketing(tiny, name, decode):
    torch.backends.cuda.matmul.allow_tf32 = False
    eager, graph = _pair(getattr(tiny, name), decode)
    slots, captured = set(), []
    for messages in (PROMPT, LONGER):
        for max_new in (1, 9, 60):
            r = GenerationRequest(list(messages), temperature=0, max_new_tokens=max_new)
            a, b = eager.generate(r), graph.generate(r)
            assert b.extra["decode"] == decode and a.extra["decode"] == "eager"
            assert b.texts == a.texts, (name, decode, max_new, messages[1].content[:12])
            assert b.completions[0].completion_tokens == a.completions[0].completion_tokens
            slots.add(tuple(b.extra["slot"]))
            captured += b.extra["captured"]
    assert slots == {(1, 256)}
    assert len(captured) == 1  # one graph for the whole series: other prompt lengths and budgets reuse it
    for m in (eager, graph):
        m.close()


def test_batch_rows_in_a_graph_equal_one_row(tiny):
    _, graph = _pair(tiny.qwen25vl)
    ids = graph.prompt_ids(GenerationRequest(list(PROMPT)))[0][0].tolist()
    fast: FastDecoder = graph._fast_decoder("graph")
    one = fast.generate(ids, rows=1, max_new_tokens=40, sampling=Sampling(greedy=True))
    for rows in (3, 8):
        many = fast.generate(ids, rows=rows, max_new_tokens=40, sampling=Sampling(greedy=True))
        assert many.graphs and many.slot[0] == (4 if rows == 3 else 8)
        assert many.tokens == [one.tokens[0]] * rows
    graph.close()


def test_seeded_sampling_repeats_from_the_first_call_on(tiny):
    graph = get_model(f"hf:{tiny.qwen2}", device="cuda", quantization="none", decode="graph").load()
    r = GenerationRequest(list(PROMPT), n=4, seed=7, temperature=1.0, max_new_tokens=30)
    chunks = []
    first = graph.stream(r, chunks.append)  # captures its graph, then seeds
    again = graph.generate(r)
    other = graph.generate(GenerationRequest(list(PROMPT), n=4, seed=8, temperature=1.0, max_new_tokens=30))
    assert first.extra["captured"] and not again.extra["captured"]
    assert first.texts == again.texts != other.texts
    assert len(set(first.texts)) > 1
    for c in first.completions:
        assert "".join(ch.text for ch in chunks if ch.index == c.index) == c.text
    graph.close()


def test_prompt_lookup_in_graphs_keeps_greedy_output_on_repair_traffic():
    traffic = json.loads(TRAFFIC.read_text())["requests"][0]
    messages = [Message(m["role"], m["content"]) for m in traffic["messages"]]
    eager, graph = _pair(model_spec())
    r = GenerationRequest(messages, temperature=0, max_new_tokens=200)
    a, b = eager.generate(r), graph.generate(r)
    assert b.extra["prompt_lookup"] == 8 and b.extra["lookup_steps"] > 0
    assert b.texts == a.texts
    for m in (eager, graph):
        m.close()


def test_int4_kernel_on_cuda(tiny):
    full = get_model(f"hf:{tiny.qwen2}", device="cuda", quantization="none").load()
    q4 = get_model(f"hf:{tiny.qwen2}", device="cuda", quantization="int4").load()
    assert q4.int4_report["replaced"] == 14 and q4.int4_report["check_relative_error"] < 2e-2
    ids = full.prompt_ids(GenerationRequest(list(PROMPT)))[0]
    with torch.no_grad():
        a = full.model(input_ids=ids).logits[0].float()
        b = q4.model(input_ids=ids).logits[0].float()
    assert torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim=0) > 0.95
    r = GenerationRequest(list(PROMPT), n=2, seed=1, temperature=1.0, max_new_tokens=12)
    out = q4.generate(r)
    assert out.extra["decode"] == "graph" and out.texts == q4.generate(r).texts
    for m in (full, q4):
        m.close()
