"""circuit-muse-nano: the small Qwen2 model trained from scratch and shipped inside the package.

It is the model used when nothing else is configured (`--model nano`, or no model and no
CIRCUIT_MUSE_MODEL). The weights, tokenizer and model card live in `circuit_muse/nano/model/`
(package data); `MODEL_CARD.md` there says what it was trained on and how well it does.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["MODEL_DIR", "NANO_NAME", "is_available", "model_spec"]

NANO_NAME = "nano"
MODEL_DIR = Path(__file__).resolve().parent / "model"


def is_available(model_dir: Path | None = None) -> bool:
    """Whether the shipped weights are present (a source checkout without them, or a stripped install)."""
    folder = model_dir or MODEL_DIR
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def model_spec(model_dir: Path | None = None) -> str:
    """The hf backend spec of the shipped model."""
    return f"hf:{model_dir or MODEL_DIR}"
