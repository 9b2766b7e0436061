"""circuit-muse-nano's byte-level BPE tokenizer, fitted to Verilog and the loop's English prompts.

`fit_tokenizer(texts, vocab_size)` returns a `PreTrainedTokenizerFast` with ChatML special tokens and the
chat template the hf backend applies at inference (the same one the training script renders with).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["CHATML_TEMPLATE", "EOS", "PAD", "SPECIAL_TOKENS", "bytes_per_token", "fit_tokenizer"]

EOS = "<|im_end|>"
PAD = "<|endoftext|>"
SPECIAL_TOKENS = [PAD, "<|im_start|>", EOS]
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def fit_tokenizer(texts: Iterable[str], vocab_size: int) -> Any:
    """Train a byte-level BPE (tokenizers) on `texts`; wrap it for transformers with the ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD, bos_token=None,
                                   unk_token=None, chat_template=CHATML_TEMPLATE, model_max_length=4096,
                                   clean_up_tokenization_spaces=False)


def bytes_per_token(tokenizer: Any, texts: Iterable[str]) -> float:
    """UTF-8 bytes per token over `texts` (higher = fewer decode steps per design)."""
    n_bytes = n_tok = 0
    for t in texts:
        n_bytes += len(t.encode())
        n_tok += len(tokenizer(t, add_special_tokens=False)["input_ids"])
    return n_bytes / max(1, n_tok)
