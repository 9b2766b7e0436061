"""Check that a LoRA adapter really loaded: the guard against adapters that load *nothing*, silently.

`PeftModel.from_pretrained` on Qwen2.5-VL adapters saved before transformers 4.52 leaves every adapter weight
at its initial value and only warns; the model then behaves exactly like its base. `verify_adapter_loaded`
compares the LoRA tensors in the model with those in the adapter file (how many, their shapes and norms),
so any such mismatch, whatever its cause or transformers version, is an error rather than a quiet no-op.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from ..errors import ModelError

__all__ = ["AdapterLoadError", "verify_adapter_loaded"]

log = logging.getLogger(__name__)


class AdapterLoadError(ModelError):
    """A LoRA adapter did not load completely (missing keys, or weights that are not the file's)."""


def _file_lora_stats(adapter: Path) -> list[tuple[tuple[int, ...], float, str]]:
    import torch

    stats: list[tuple[tuple[int, ...], float, str]] = []
    st = adapter / "adapter_model.safetensors"
    if st.is_file():
        from safetensors import safe_open

        with safe_open(str(st), framework="pt") as f:
            for key in f.keys():
                if "lora_" in key:
                    t = f.get_tensor(key)
                    stats.append((tuple(t.shape), float(t.float().norm()), key))
        return stats
    state = torch.load(str(adapter / "adapter_model.bin"), map_location="cpu", weights_only=True)
    for key, t in state.items():
        if "lora_" in key:
            stats.append((tuple(t.shape), float(t.float().norm()), key))
    return stats


def verify_adapter_loaded(model: Any, adapter: Path, adapter_name: str = "default") -> dict[str, Any]:
    """Raise AdapterLoadError unless the model's LoRA weights are exactly the adapter file's.

    Returns a small report: how many LoRA tensors and parameters were loaded, and how many of those sit in a
    vision tower (used by image prompts only).
    """
    marker = f".{adapter_name}"
    model_stats: list[tuple[tuple[int, ...], float, str]] = []
    for name, param in model.named_parameters():
        if "lora_" in name and marker in name:
            model_stats.append((tuple(param.shape), float(param.detach().float().norm()), name))
    file_stats = _file_lora_stats(adapter)
    if not model_stats:
        raise AdapterLoadError(f"No LoRA layers were added to the model from {adapter}: its target_modules match "
                               "nothing in this base model. Check that the base model is the right one.")
    if len(model_stats) != len(file_stats):
        raise AdapterLoadError(
            f"The adapter file in {adapter} holds {len(file_stats)} LoRA tensors but the model received "
            f"{len(model_stats)}. The adapter does not fit this base model (or was saved for another layout)."
        )
    model_sorted = sorted(model_stats, key=lambda s: (s[0], s[1]))
    file_sorted = sorted(file_stats, key=lambda s: (s[0], s[1]))
    for (m_shape, m_norm, m_name), (f_shape, f_norm, f_key) in zip(model_sorted, file_sorted, strict=True):
        if m_shape != f_shape or not math.isclose(m_norm, f_norm, rel_tol=2e-2, abs_tol=1e-5):
            raise AdapterLoadError(
                f"The LoRA weights in the model are not those in {adapter} (e.g. {m_name} {m_shape} norm {m_norm:.4g}"
                f" vs. {f_key} {f_shape} norm {f_norm:.4g}): the adapter did not load, and the model would behave "
                "like its base. Use a transformers version that maps this adapter's keys (>= 4.52 for Qwen2.5-VL)."
            )
    params = sum(math.prod(s[0]) for s in file_stats)
    vision = sum(1 for s in file_stats if ".visual." in s[2] or "vision" in s[2])
    log.info("adapter %s: %d LoRA tensors (%d parameters) loaded and checked; %d in the vision tower",
             adapter, len(file_stats), params, vision)
    return {"tensors": len(file_stats), "parameters": params, "vision_tensors": vision}
