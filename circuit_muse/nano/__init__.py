"""circuit-muse-nano: the small Qwen2 model trained from scratch and shipped inside the package.

It is the model used when nothing else is configured (`--model nano`, or no model and no
CIRCUIT_MUSE_MODEL). The weights, tokenizer and model card live in `circuit_muse/nano/model/`
(package data); `MODEL_CARD.md` there says what it was trained on and how well it does.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["MODEL_DIR", "NANO_NAME", "THREADS_ENV", "is_available", "model_spec", "prefer_cpu_threads"]

NANO_NAME = "nano"
MODEL_DIR = Path(__file__).resolve().parent / "model"


def is_available(model_dir: Path | None = None) -> bool:
    """Whether the shipped weights are present (a source checkout without them, or a stripped install)."""
    folder = model_dir or MODEL_DIR
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def model_spec(model_dir: Path | None = None) -> str:
    """The hf backend spec of the shipped model."""
    return f"hf:{model_dir or MODEL_DIR}"


THREADS_ENV = "CIRCUIT_MUSE_NANO_THREADS"


def prefer_cpu_threads() -> int:
    """Run torch's CPU kernels on one thread (or $CIRCUIT_MUSE_NANO_THREADS) for this process.

    A model this small does too little work per step to share it between threads: on a loaded 2-core
    machine 2 threads decoded 1.7 tokens/s and 1 thread 29 (benchmarks/results/nano_threads.json), because
    the idle thread spins while waiting. Applied when the shipped model is chosen; returns the count set.
    """
    import os
    import sys

    n = max(1, int(os.environ.get(THREADS_ENV, "1") or 1))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    else:
        os.environ.setdefault("OMP_NUM_THREADS", str(n))
    return n
