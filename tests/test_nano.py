"""The shipped circuit-muse-nano: loads offline, is the default model, decodes deterministically, and one
example prompt goes through the real loop to a functionally verified design."""
from __future__ import annotations

import os

import pytest

from circuit_muse import nano
from circuit_muse.models.base import GenerationRequest
from circuit_muse.models.hf_backend import HFModel
from circuit_muse.models.registry import get_model

pytestmark = [pytest.mark.model, pytest.mark.skipif(not nano.is_available(), reason="no shipped nano weights")]

PROMPT = "Design a 4-bit up/down counter with synchronous load and asynchronous reset."


@pytest.fixture(scope="module")
def model():
    os.environ["HF_HUB_OFFLINE"] = "1"
    m = get_model("nano")
    yield m
    m.close()


def test_nano_is_the_default_and_any_other_spec_overrides(monkeypatch):
    monkeypatch.delenv("CIRCUIT_MUSE_MODEL", raising=False)
    default = get_model()
    assert isinstance(default, HFModel) and default.spec == nano.model_spec()
    assert get_model("nano").spec == nano.model_spec()
    other = get_model("openai:http://127.0.0.1:9/v1#verilog")
    assert other.spec == "openai:http://127.0.0.1:9/v1#verilog"
    monkeypatch.setenv("CIRCUIT_MUSE_MODEL", "openai:http://127.0.0.1:9/v1#x")
    assert get_model().spec == "openai:http://127.0.0.1:9/v1#x"


def test_shards_fit_the_transfer_limit():
    shards = sorted(nano.MODEL_DIR.glob("*.safetensors"))
    assert shards and all(p.stat().st_size <= 16 * 1024 * 1024 for p in shards)
    assert (nano.MODEL_DIR / "MODEL_CARD.md").is_file()


def test_loads_offline_and_decodes_deterministically(model):
    from circuit_muse.loop.prompts import first_messages

    req = GenerationRequest(messages=first_messages(PROMPT), n=2, max_new_tokens=12, temperature=0.8, seed=5)
    a = model.stream(req)
    b = model.stream(req)
    assert [c.text for c in a.completions] == [c.text for c in b.completions]
    assert a.completions[0].text.strip()
    assert model.describe()["model_type"] == "qwen2" and model.loaded


def test_prompts_are_tokenized_exactly_as_in_training(model):
    """The backend encodes with the folder's own tokenizer.json (the ids training used), not Qwen2's re-split."""
    from tokenizers import Tokenizer

    from circuit_muse.loop.prompts import first_messages

    raw = Tokenizer.from_file(str(nano.MODEL_DIR / "tokenizer.json"))
    model.load()
    messages = [m.to_dict() for m in first_messages("A 16-bit FIFO, depth 32, almost_full at 28.")]
    text = model.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = model.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
    assert "16-bit" in text and ids == raw.encode(text, add_special_tokens=False).ids


@pytest.mark.simulator
def test_example_prompt_generates_verified_verilog(model):
    from circuit_muse.loop import generate_verified

    r = generate_verified(PROMPT, model=model, max_rounds=1, samples=1, seed=0, max_new_tokens=700)
    assert r.spec and r.spec["family"] == "counter"
    assert r.passed and r.report is not None and r.report.functional_tested, r.report and r.report.category


def test_loading_prints_nothing(capfd):
    """Library code never prints: transformers' "Loading weights" bar stays off the caller's terminal, and the
    caller's own progress-bar setting is left as it was."""
    from transformers.utils import logging as tlog

    assert tlog.is_progress_bar_enabled()
    m = get_model("nano").load()
    try:
        out, err = capfd.readouterr()
        assert "Loading weights" not in err + out and (out, err) == ("", "")
        assert tlog.is_progress_bar_enabled()
    finally:
        m.close()
