"""Tell what a local model folder holds from its files alone (no torch, no transformers).

- ``adapter_config.json``: a LoRA (PEFT) adapter. Its base model is the ``base_model`` override, else
  ``base_model_name_or_path`` from the config, and must be a local folder: hub ids such as
  ``unsloth/qwen2.5-vl-7b-instruct-unsloth-bnb-4bit`` are never downloaded.
- ``config.json`` with ``quantization_config``: a pre-quantized model (bitsandbytes, or another method that
  transformers knows).
- plain ``config.json``: a full or merged model.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ModelError

__all__ = ["BASE_MODEL_ENV_VAR", "ModelFolder", "inspect_folder"]

BASE_MODEL_ENV_VAR = "CIRCUIT_MUSE_BASE_MODEL"

FolderKind = Literal["full", "quantized", "adapter"]

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")


@dataclass(frozen=True)
class ModelFolder:
    """What a folder holds.

    Attributes:
        path: the folder the user named.
        kind: "full" (full or merged weights), "quantized" (pre-quantized weights) or "adapter" (LoRA).
        weights_path: the folder whose config.json and weights are loaded (the base model for adapters).
        adapter_path: the adapter folder, or None.
        model_type: ``model_type`` from the weights' config.json (e.g. "qwen2", "qwen2_5_vl").
        quant_method: the weights' ``quantization_config.quant_method`` (e.g. "bitsandbytes"), or None.
        quant_config: the weights' ``quantization_config`` as written, or None.
        base_name: for adapters, ``base_model_name_or_path`` as written in adapter_config.json.
        tokenizer_path: the folder to load the tokenizer from (the adapter's when it has one).
    """

    path: Path
    kind: FolderKind
    weights_path: Path
    adapter_path: Path | None
    model_type: str
    quant_method: str | None
    quant_config: dict[str, Any] | None
    base_name: str | None
    tokenizer_path: Path

    @property
    def template_search_path(self) -> list[Path]:
        """Folders to look in for chat_template.jinja / chat_template.json, most specific first."""
        seen: list[Path] = []
        for p in (self.adapter_path, self.tokenizer_path, self.weights_path):
            if p is not None and p not in seen:
                seen.append(p)
        return seen


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read {path}: {exc}. The file must be valid JSON.") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path} does not hold a JSON object.")
    return data


def _has_tokenizer(folder: Path) -> bool:
    return any((folder / name).is_file() for name in _TOKENIZER_FILES)


def _weights_info(folder: Path) -> tuple[str, str | None, dict[str, Any] | None]:
    config = _read_json(folder / "config.json")
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        raise ModelError(f"{folder / 'config.json'} has no model_type; it is not a transformers model config.")
    quant = config.get("quantization_config")
    if quant is None and isinstance(config.get("text_config"), dict):
        quant = config["text_config"].get("quantization_config")
    if isinstance(quant, dict):
        method = quant.get("quant_method")
        if method is None and (quant.get("load_in_4bit") or quant.get("load_in_8bit")):
            method = "bitsandbytes"
        return model_type, str(method) if method else "unknown", quant
    return model_type, None, None


def _resolve_base(adapter: Path, name: str) -> Path | None:
    """A local folder only: as given (relative to the working directory), else relative to the adapter."""
    candidates = [Path(os.path.expanduser(name))]
    if not candidates[0].is_absolute():
        candidates.append(adapter / name)
    for cand in candidates:
        if cand.is_dir() and (cand / "config.json").is_file():
            return cand.resolve()
    return None


def inspect_folder(path: str | os.PathLike[str], *, base_model: str | None = None) -> ModelFolder:
    """Classify a model folder and find its base model; raise ModelError saying how to fix what is wrong.

    Args:
        path: the folder from ``hf:PATH``.
        base_model: for adapter folders, a local folder holding the base model; overrides
            ``base_model_name_or_path`` from adapter_config.json. Falls back to CIRCUIT_MUSE_BASE_MODEL.
    """
    folder = Path(os.path.expanduser(str(path)))
    if not folder.exists():
        raise ModelError(
            f"No model folder at {folder}. hf:PATH must name a local folder holding a model (config.json and "
            "weights) or a LoRA adapter (adapter_config.json); nothing is ever downloaded."
        )
    if folder.is_file():
        hint = ""
        if folder.suffix == ".gguf":
            hint = (" GGUF files are for llama.cpp: serve it with `llama-server -m FILE --port 8080` and use "
                    "openai:http://localhost:8080/v1#model.")
        raise ModelError(f"{folder} is a file; hf:PATH must name the folder that holds the model.{hint}")
    folder = folder.resolve()
    explicit_base = base_model is not None
    if base_model is None:
        base_model = os.environ.get(BASE_MODEL_ENV_VAR, "").strip() or None

    adapter_cfg_path = folder / "adapter_config.json"
    if adapter_cfg_path.is_file():
        adapter_cfg = _read_json(adapter_cfg_path)
        peft_type = str(adapter_cfg.get("peft_type", "LORA")).upper()
        if peft_type not in ("LORA",):
            raise ModelError(f"{folder} holds a {peft_type} adapter; only LoRA adapters are supported.")
        if not any((folder / f).is_file() for f in ("adapter_model.safetensors", "adapter_model.bin")):
            raise ModelError(
                f"{folder} has adapter_config.json but no adapter_model.safetensors (or .bin): the adapter's "
                "weights are missing. Copy them from where the adapter was trained."
            )
        written = adapter_cfg.get("base_model_name_or_path")
        base_name = str(written) if written else None
        if base_model is not None:
            base = _resolve_base(folder, base_model)
            if base is None:
                raise ModelError(
                    f"The base model {base_model!r} given for the adapter {folder} is not a local folder with a "
                    "config.json. Pass the folder that holds the base model's config.json and weights."
                )
        else:
            base = _resolve_base(folder, base_name) if base_name else None
            if base is None:
                raise ModelError(
                    f"The adapter in {folder} was trained on {base_name or '(no base named)'!r}, which is not a "
                    "local folder, and circuit_muse never downloads models. Put a copy of that base model (for "
                    "Qwen2.5-VL adapters: Qwen/Qwen2.5-VL-7B-Instruct or its bnb-4bit version) in a local folder "
                    "and name it: get_model('hf:PATH', base_model='/models/base') or "
                    f"{BASE_MODEL_ENV_VAR}=/models/base."
                )
        if (base / "adapter_config.json").is_file():
            raise ModelError(f"The base model folder {base} is itself an adapter; name the folder of full weights.")
        model_type, method, quant = _weights_info(base)
        tokenizer_path = folder if _has_tokenizer(folder) else base
        return ModelFolder(folder, "adapter", base, folder, model_type, method, quant, base_name, tokenizer_path)

    if (folder / "config.json").is_file():
        if explicit_base:
            raise ModelError(
                f"The base_model option only applies to LoRA adapter folders, and {folder} holds a full model "
                "(config.json, no adapter_config.json). Drop the option."
            )
        model_type, method, quant = _weights_info(folder)
        if not _has_tokenizer(folder):
            raise ModelError(
                f"{folder} has no tokenizer files (tokenizer.json / tokenizer_config.json). Copy them from the "
                "model the weights came from."
            )
        kind: FolderKind = "quantized" if method else "full"
        return ModelFolder(folder, kind, folder, None, model_type, method, quant, None, folder)

    listing = ", ".join(sorted(p.name for p in folder.iterdir())[:12]) or "(empty)"
    raise ModelError(
        f"{folder} holds neither config.json (a model) nor adapter_config.json (a LoRA adapter); it has: {listing}. "
        "Name the folder written by save_pretrained (for Unsloth, the folder given to model.save_pretrained)."
    )
