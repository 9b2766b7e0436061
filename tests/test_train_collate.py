"""Completion-only labels: the prompt is masked, the answer (and its end-of-turn token) is learned."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from train_support import DATA, cached_model, one_torch_thread

from circuit_muse.errors import InputError
from circuit_muse.train.collate import IGNORE_INDEX, Collator, encode_messages, encode_record
from circuit_muse.train.formatting import SYSTEM_PROMPT
from circuit_muse.train.qlora import load_tokenizer
from circuit_muse.train.records import read_records

pytest.importorskip("transformers")
pytestmark = pytest.mark.model


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    with one_torch_thread():
        yield


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(str(cached_model("qwen2")))


def test_labels_mask_exactly_the_prompt(tok) -> None:
    rec = read_records(DATA)[0]
    enc = encode_record(tok, rec, max_length=2048)
    assert enc is not None and not enc.truncated
    assert len(enc.input_ids) == len(enc.labels)
    assert all(x == IGNORE_INDEX for x in enc.labels[: enc.n_prompt])
    assert list(enc.labels[enc.n_prompt:]) == list(enc.input_ids[enc.n_prompt:])
    prompt = tok.decode(enc.input_ids[: enc.n_prompt])
    answer = tok.decode(enc.input_ids[enc.n_prompt:])
    assert SYSTEM_PROMPT in prompt and rec.instruction in prompt and prompt.endswith("<|im_start|>assistant\n")
    assert answer.startswith(rec.output.strip()) and answer.rstrip("\n").endswith("<|im_end|>")
    assert rec.output.strip() not in prompt


def test_every_sample_record_encodes(tok) -> None:
    for rec in read_records(DATA):
        enc = encode_record(tok, rec, max_length=4096)
        assert enc is not None and enc.n_target > 5


def test_truncation_and_too_long_prompt(tok) -> None:
    rec = read_records(DATA)[0]
    full = encode_record(tok, rec, max_length=4096)
    cut = encode_record(tok, rec, max_length=full.n_prompt + 3)
    assert cut.truncated and len(cut.input_ids) == full.n_prompt + 3 and cut.n_target == 3
    assert encode_record(tok, rec, max_length=full.n_prompt) is None


def test_template_whose_prompt_is_not_a_prefix_fails_loudly(tok) -> None:
    # A template that renders the generation prompt differently from the start of the assistant turn
    # (as reasoning templates do) would shift the mask: it must raise, not train on the wrong tokens.
    bad = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
           "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}")
    original = tok.chat_template
    tok.chat_template = bad
    try:
        with pytest.raises(InputError, match="not a token prefix"):
            encode_messages(tok, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
                            max_length=128)
    finally:
        tok.chat_template = original


def test_needs_a_final_assistant_turn_and_a_template(tok) -> None:
    with pytest.raises(InputError, match="ends with the assistant"):
        encode_messages(tok, [{"role": "user", "content": "hi"}], max_length=64)
    original = tok.chat_template
    tok.chat_template = None
    try:
        with pytest.raises(InputError, match="no chat template"):
            encode_messages(tok, [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
                            max_length=64)
    finally:
        tok.chat_template = original


def test_collator_pads_right_with_ignored_labels(tok) -> None:
    recs = read_records(DATA)[:2]
    encs = [encode_record(tok, r, max_length=4096) for r in recs]
    batch = Collator(pad_token_id=tok.pad_token_id)(encs)
    width = max(len(e.input_ids) for e in encs)
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape == (2, width)
    short = min(range(2), key=lambda i: len(encs[i].input_ids))
    n = len(encs[short].input_ids)
    assert int(batch["attention_mask"][short].sum()) == n
    assert (batch["labels"][short, n:] == IGNORE_INDEX).all()
    assert (batch["input_ids"][short, n:] == tok.pad_token_id).all()


def test_vl_folder_template_fallback(tmp_path: Path) -> None:
    vl = cached_model("qwen25_vl")
    assert not (vl / "chat_template.jinja").exists()
    assert "chat_template" not in json.loads((vl / "tokenizer_config.json").read_text())
    tok = load_tokenizer(str(vl))
    assert tok.chat_template and encode_record(tok, read_records(DATA)[0], max_length=4096) is not None


def test_tokenizer_without_any_template_is_rejected(tmp_path: Path) -> None:
    src = cached_model("qwen2")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_text((src / name).read_text())
    cfg = json.loads((tmp_path / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(cfg))
    with pytest.raises(InputError, match="has no chat template"):
        load_tokenizer(str(tmp_path))
