"""Tokenise records with the model's chat template; the loss sees only the assistant's answer.

The prompt (system + user + the assistant header that `add_generation_prompt=True` adds) is tokenised on
its own and must be a token-for-token prefix of the tokenised full conversation; its positions get label
-100. If a template renders the prompt differently inside the full conversation (templates that inject
reasoning tags, say), masking by length would be wrong, so that raises instead of training on garbage.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .formatting import SYSTEM_PROMPT, Message, record_messages
from .records import Record

IGNORE_INDEX = -100


@dataclass(frozen=True)
class Encoded:
    """One tokenised example. labels[i] is input_ids[i] on answer tokens and IGNORE_INDEX on the prompt."""

    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    n_prompt: int
    truncated: bool = False

    @property
    def n_target(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE_INDEX)


def _render(tokenizer: Any, messages: list[Message], *, generation_prompt: bool) -> str:
    if not getattr(tokenizer, "chat_template", None):
        raise InputError("the tokenizer has no chat template; use a chat/instruct tokenizer or set "
                         "[model] tokenizer to one that has chat_template.jinja")
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)
    if not isinstance(text, str):  # pragma: no cover - guards against API drift
        raise InputError(f"apply_chat_template(tokenize=False) returned {type(text).__name__}, expected str")
    return text


def _ids(tokenizer: Any, text: str) -> list[int]:
    # The template already wrote every special token it wants; add none of our own (no extra BOS).
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def encode_messages(tokenizer: Any, messages: list[Message], *, max_length: int) -> Encoded | None:
    """Tokenise a conversation whose last message is the assistant's answer.

    Returns None when the prompt alone fills max_length (no answer token would be left to learn from).
    A too-long answer is cut at max_length and marked truncated.

    Raises:
        InputError: the template's prompt is not a prefix of the full conversation, or adds nothing.
    """
    if not messages or messages[-1].get("role") != "assistant":
        raise InputError("encode_messages needs a conversation that ends with the assistant's answer")
    full_text = _render(tokenizer, messages, generation_prompt=False)
    prompt_text = _render(tokenizer, messages[:-1], generation_prompt=True)
    full = _ids(tokenizer, full_text)
    prompt = _ids(tokenizer, prompt_text)
    if len(full) <= len(prompt) or full[: len(prompt)] != prompt:
        pairs = enumerate(zip(prompt, full, strict=False))
        at = next((i for i, (a, b) in pairs if a != b), min(len(prompt), len(full)))
        raise InputError(
            "chat template: the prompt rendered with add_generation_prompt=True is not a token prefix of the "
            f"full conversation (first difference at token {at}: prompt {prompt[at:at + 5]} vs full "
            f"{full[at:at + 5]}); completion-only labels would be wrong. Use a template whose generation "
            "prompt matches the start of the assistant turn."
        )
    if len(prompt) >= max_length:
        return None
    truncated = len(full) > max_length
    full = full[:max_length]
    labels = [IGNORE_INDEX] * len(prompt) + full[len(prompt):]
    return Encoded(input_ids=tuple(full), labels=tuple(labels), n_prompt=len(prompt), truncated=truncated)


def encode_record(tokenizer: Any, record: Record, *, max_length: int,
                  system: str | None = SYSTEM_PROMPT) -> Encoded | None:
    """encode_messages for one training record (see record_messages for the conversation)."""
    try:
        return encode_messages(tokenizer, record_messages(record, system=system), max_length=max_length)
    except InputError as exc:
        raise InputError(f"{record.where or record.id}: {exc}") from exc


@dataclass(frozen=True)
class Collator:
    """Right-pads a list of Encoded into tensors: input_ids, attention_mask, labels (pad labels = -100)."""

    pad_token_id: int

    def __call__(self, batch: Sequence[Encoded]) -> dict[str, Any]:
        import torch

        width = max(len(e.input_ids) for e in batch)
        ids = torch.full((len(batch), width), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, e in enumerate(batch):
            n = len(e.input_ids)
            ids[i, :n] = torch.tensor(e.input_ids, dtype=torch.long)
            labels[i, :n] = torch.tensor(e.labels, dtype=torch.long)
            mask[i, :n] = 1
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}
