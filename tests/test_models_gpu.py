"""The hf backend in 4-bit nf4 on a CUDA GPU, through the same code path as on the CPU.

Runs only where torch sees a GPU and bitsandbytes is installed (the device machine; see scripts/gpu/).
"""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytestmark = [pytest.mark.gpu, pytest.mark.model]

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
if not torch.cuda.is_available():
    pytest.skip("needs a CUDA GPU", allow_module_level=True)
bnb = pytest.importorskip("bitsandbytes")

from circuit_muse.models import GenerationRequest, HFModel, Message, get_model  # noqa: E402
from tests.support.tiny_models import tiny_models  # noqa: E402

PROMPT = [Message("system", "You write Verilog."), Message("user", "Write a 4-bit counter with synchronous reset.")]


@pytest.fixture(scope="module")
def tiny():
    return tiny_models()


def _linear4bit_count(model: HFModel) -> int:
    return sum(isinstance(m, bnb.nn.Linear4bit) for m in model.model.modules())


def _logits(model: HFModel, text: str = "module counter(input clk") -> torch.Tensor:
    ids = model.tokenizer(text, return_tensors="pt")["input_ids"].to(model.model.device)
    with torch.no_grad():
        return model.model(input_ids=ids).logits[0].float().cpu()


def test_nf4_is_the_default_on_cuda_and_generates(tiny):
    model = get_model(f"hf:{tiny.qwen2}")
    assert isinstance(model, HFModel)
    model.load()
    assert model.quantization == "nf4"
    assert model.device.startswith("cuda")
    assert _linear4bit_count(model) >= 2 * 7  # 2 layers x q,k,v,o,gate,up,down (lm_head may stay unquantized)
    chunks = []
    req = GenerationRequest(list(PROMPT), n=4, seed=3, temperature=1.0, max_new_tokens=16)
    result = model.stream(req, chunks.append)
    assert len(result.completions) == 4
    for c in result.completions:
        assert "".join(ch.text for ch in chunks if ch.index == c.index) == c.text
        assert 1 <= c.completion_tokens <= 16
    again = model.generate(req)
    assert again.texts == result.texts  # seeded sampling repeats on the GPU too
    assert result.extra["quantization"] == "nf4"
    assert result.extra["decode"] == "graph"  # the fast path is the default on CUDA
    model.close()


def test_unsloth_vl_adapter_on_nf4_base(tiny):
    base = get_model(f"hf:{tiny.qwen25vl}", quantization="nf4").load()
    adapted = get_model(f"hf:{tiny.qwen_verilog_stage4_final}", base_model=str(tiny.qwen25vl),
                        quantization="nf4").load()
    bf16 = get_model(f"hf:{tiny.qwen_verilog_stage4_final}", base_model=str(tiny.qwen25vl),
                     quantization="none").load()
    assert adapted.quantization == "nf4" and bf16.quantization == "none" and bf16.dtype == "bfloat16"
    assert _linear4bit_count(adapted) > 0 and _linear4bit_count(bf16) == 0
    assert adapted.adapter_report["tensors"] == 34 and adapted.adapter_report["vision_tensors"] == 6
    lb, la, lf = _logits(base), _logits(adapted), _logits(bf16)
    assert (la - lb).abs().max() > 1e-2  # the adapter acts on the 4-bit model
    # 4-bit weights are close to, not equal to, the bf16 ones.
    cos = torch.nn.functional.cosine_similarity(la.flatten(), lf.flatten(), dim=0)
    assert cos > 0.9, f"nf4 vs bf16 logits cosine {cos:.3f}"
    out = adapted.generate(GenerationRequest(list(PROMPT), n=2, seed=1, temperature=1.0, max_new_tokens=8))
    assert len(out.completions) == 2 and all(c.completion_tokens >= 1 for c in out.completions)
    for m in (base, adapted, bf16):
        m.close()
