"""Tiny models for the training tests, built from configs (no downloads, a few seconds in all).

Kept apart from tests/support/ on purpose: the training tests own their builders.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "train_sample.jsonl"

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
from circuit_muse.train.formatting import SYSTEM_PROMPT  # noqa: E402

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def build_tokenizer(out_dir: Path, *, vocab_size: int = 600) -> Any:
    """A byte-level BPE trained on the sample records' text, with a ChatML chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        texts += [rec["instruction"], rec["input"], rec["output"]]
    # The real system prompt is in every conversation: let the tokenizer learn it, so prompts stay short.
    texts += [SYSTEM_PROMPT] * 8 + ["system user assistant"]
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(texts, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  chat_template=CHATML)
    tok.save_pretrained(str(out_dir))
    return tok


def build_qwen2(out_dir: Path, *, seed: int = 0) -> Path:
    """Tiny Qwen2 causal LM (~100k parameters) plus tokenizer in one folder."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    out_dir.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(out_dir)
    cfg = Qwen2Config(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, vocab_size=len(tok), max_position_embeddings=2048,
                      bos_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                      tie_word_embeddings=True, initializer_range=0.2)
    torch.manual_seed(seed)
    Qwen2ForCausalLM(cfg).save_pretrained(str(out_dir))
    return out_dir


def build_qwen25_vl(out_dir: Path, *, seed: int = 0) -> Path:
    """Tiny Qwen2.5-VL (text sizes as build_qwen2, a one-block vision tower) plus tokenizer.

    The chat template is written as chat_template.json, as real VL folders ship it, so the loader's
    fallback is exercised.
    """
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    out_dir.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(out_dir)
    ids = dict(bos_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    text = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, vocab_size=len(tok), max_position_embeddings=2048,
                rope_parameters={"rope_type": "default", "mrope_section": [2, 2, 4], "rope_theta": 1e6},
                initializer_range=0.2, **ids)
    vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                  fullatt_block_indexes=[0])
    cfg = Qwen2_5_VLConfig(text_config=text, vision_config=vision, image_token_id=len(tok) - 1,
                           video_token_id=len(tok) - 2, vision_start_token_id=len(tok) - 3, initializer_range=0.2,
                           **ids)
    torch.manual_seed(seed)
    Qwen2_5_VLForConditionalGeneration(cfg).save_pretrained(str(out_dir))
    # Move the template out of the tokenizer files, as VL checkpoints do.
    for name in ("chat_template.jinja",):
        (out_dir / name).unlink(missing_ok=True)
    tcfg = json.loads((out_dir / "tokenizer_config.json").read_text())
    tcfg.pop("chat_template", None)
    (out_dir / "tokenizer_config.json").write_text(json.dumps(tcfg))
    (out_dir / "chat_template.json").write_text(json.dumps({"chat_template": CHATML}))
    return out_dir


def write_config(path: Path, base: Path, out_dir: Path, *, stages: int = 4, extra: str = "", train: str = "",
                 lora: str = "", device: str = "cpu", quantization: str = "auto",
                 gradient_checkpointing: bool = False) -> Path:
    """A tiny training TOML: `stages` stages of a few steps each over the sample records; `train` lines override
    the [train] defaults."""
    defaults = {"epochs": "6", "batch_size": "1", "grad_accum": "1", "learning_rate": "0.01", "warmup_ratio": "0.0",
                "save_every": "2", "eval_every": "0"}
    overrides = dict(line.split("=", 1) for line in train.splitlines() if "=" in line)
    defaults.update({k.strip(): v.strip() for k, v in overrides.items()})
    train_table = "\n".join(f"{k} = {v}" for k, v in defaults.items())
    stage_tables = "\n".join(f'[[stages]]\nname = "stage{i}"\ndata_stages = [{i}]\n' for i in range(1, stages + 1))
    path.write_text(f"""
[run]
output_dir = "{out_dir}"
seed = 7

[model]
base = "{base}"
device = "{device}"
quantization = "{quantization}"
gradient_checkpointing = {str(gradient_checkpointing).lower()}

[lora]
r = 4
alpha = 8
dropout = 0.05
{lora}

[data]
train = ["{DATA}"]
eval_fraction = 0.34
max_length = 1024

[train]
{train_table}

{extra}
{stage_tables}
""", encoding="utf-8")
    return path


@functools.cache
def cached_model(kind: str) -> Path:
    """Build a tiny model once per test session ("qwen2" or "qwen25_vl"); removed at exit."""
    root = Path(tempfile.mkdtemp(prefix="cm_train_models_"))
    atexit.register(shutil.rmtree, root, True)
    builders = {"qwen2": build_qwen2, "qwen25_vl": build_qwen25_vl}
    return builders[kind](root / kind)


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Tiny models gain nothing from intra-op threads; on a 2-core machine shared with other work (a yosys
    run, say) two torch threads made the 4-stage run 7x slower (33 s vs 4.8 s)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)
