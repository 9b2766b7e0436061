"""Find a chat template when the tokenizer has none.

`AutoTokenizer` reads ``chat_template.jinja`` (transformers >= 4.43 writes it) and the template inside
``tokenizer_config.json``, but not ``chat_template.json``, the file that VL processors (Qwen2.5-VL,
Unsloth's vision saves) write. This module reads both files itself.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ModelError

__all__ = ["find_chat_template", "read_template_file", "tokenizer_template"]

log = logging.getLogger(__name__)

TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")


def read_template_file(path: Path) -> str:
    """The template text in a ``.jinja`` file or a ``chat_template.json`` ({"chat_template": ...})."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"Cannot read the chat template {path}: {exc}") from exc
    if path.suffix != ".json":
        if not text.strip():
            raise ModelError(f"The chat template {path} is empty.")
        return text
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from exc
    template = _pick(data.get("chat_template") if isinstance(data, dict) else data)
    if not template:
        raise ModelError(f"{path} has no usable 'chat_template' entry (a string, or a list with a 'default').")
    return template


def _pick(value: Any) -> str | None:
    """A template string from the forms transformers writes: a string, {name: str}, or [{name, template}]."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        return _pick(value.get("default")) or next((v for v in value.values() if isinstance(v, str) and v), None)
    if isinstance(value, list):
        named = {d.get("name"): d.get("template") for d in value if isinstance(d, dict)}
        return _pick(named.get("default")) or next((v for v in named.values() if isinstance(v, str) and v), None)
    return None


def find_chat_template(folders: Iterable[Path]) -> tuple[str, Path] | None:
    """The first template file found in `folders` (in order): (template text, file path)."""
    for folder in folders:
        for name in TEMPLATE_FILES:
            path = folder / name
            if path.is_file():
                return read_template_file(path), path
    return None


def tokenizer_template(tokenizer: Any) -> str | None:
    """The tokenizer's own template, if it has one (a string, or the 'default' of several)."""
    return _pick(getattr(tokenizer, "chat_template", None))
