"""Loading a base model for (Q)LoRA training, attaching adapters, and counting parameters.

On CUDA (quantization "auto" or "nf4"): 4-bit NormalFloat weights with double quantization and bf16
compute through bitsandbytes, then peft's prepare_model_for_kbit_training (frozen base, fp32 norms,
gradient checkpointing). On the CPU: fp32 and no quantization (bitsandbytes on the CPU works but is
slower than fp32 for training).

Vision-language bases (Qwen2.5-VL, the original CircuitMuse base) load with AutoModelForImageTextToText
and train text-only; the default LoRA target names also match the vision tower's MLPs, as in the original
run, so its 47.59M trainable parameters are reproduced.
"""
from __future__ import annotations

import json
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, ModelError
from .config import LoraSettings, ModelSettings

log = logging.getLogger(__name__)

ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"


@dataclass
class LoadedModel:
    """A base model ready for adapters, with how it was loaded."""

    model: Any
    device: str  # "cpu" or "cuda"
    quantization: str  # "nf4" or "none"
    autocast_dtype: Any  # torch dtype for torch.autocast, or None (fp32 on the CPU)
    model_class: str


@dataclass(frozen=True)
class ParamCount:
    trainable: int
    total: int

    @property
    def fraction(self) -> float:
        return self.trainable / self.total if self.total else 0.0


def resolve_device(setting: str) -> str:
    import torch

    if setting == "cuda" and not torch.cuda.is_available():
        raise InputError("[model] device = 'cuda' but torch sees no CUDA device; use 'auto' or 'cpu'")
    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return setting


def resolve_quantization(setting: str, device: str) -> str:
    if setting == "auto":
        return "nf4" if device == "cuda" else "none"
    if setting == "nf4" and device != "cuda":
        raise InputError("[model] quantization = 'nf4' needs CUDA (bitsandbytes QLoRA); "
                         "use 'auto' or 'none' on the CPU")
    return setting


def _is_local(ref: str) -> bool:
    return Path(ref).expanduser().exists()


def load_tokenizer(ref: str) -> Any:
    """AutoTokenizer, plus the chat template of VL folders (chat_template.json / .jinja), which it ignores.

    A tokenizer without a pad token gets its eos token as pad (labels mask padding anyway).
    """
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(ref, local_files_only=_is_local(ref))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot load a tokenizer from {ref!r}: {exc}") from exc
    if not getattr(tok, "chat_template", None) and _is_local(ref):
        folder = Path(ref)
        if (folder / "chat_template.jinja").is_file():
            tok.chat_template = (folder / "chat_template.jinja").read_text(encoding="utf-8")
        elif (folder / "chat_template.json").is_file():
            data = json.loads((folder / "chat_template.json").read_text(encoding="utf-8"))
            tok.chat_template = data.get("chat_template")
    if not getattr(tok, "chat_template", None):
        raise InputError(f"tokenizer {ref!r} has no chat template (tokenizer_config.json, chat_template.jinja "
                         "or chat_template.json); training needs the chat format the model will be prompted with")
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return tok


def auto_class_for(config: Any) -> Any:
    """AutoModelForImageTextToText for VL configs (Qwen2.5-VL), AutoModelForCausalLM for plain LMs."""
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
    )

    mt = getattr(config, "model_type", None)
    if mt in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES:
        return AutoModelForImageTextToText
    if mt in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return AutoModelForCausalLM
    raise InputError(f"model type {mt!r} is neither a causal LM nor an image-text-to-text model; cannot train it")


def load_model_config(ref: str) -> Any:
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(ref, local_files_only=_is_local(ref))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read a model config from [model] base {ref!r}: {exc}. Set [model] base to a "
                         "local model folder (with config.json) or a hub id in the local cache") from exc


def load_model_for_training(settings: ModelSettings) -> LoadedModel:
    """Load the frozen base model: nf4 QLoRA on CUDA, fp32 on the CPU (see module docstring)."""
    import torch

    device = resolve_device(settings.device)
    quant = resolve_quantization(settings.quantization, device)
    compute = getattr(torch, settings.compute_dtype)
    config = load_model_config(settings.base)
    cls = auto_class_for(config)
    kwargs: dict[str, Any] = {"local_files_only": _is_local(settings.base)}
    if settings.attn_implementation:
        kwargs["attn_implementation"] = settings.attn_implementation
    pre_quantized = getattr(config, "quantization_config", None) is not None
    if quant == "nf4":
        if not pre_quantized:
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=compute)
        kwargs.update(dtype=compute, device_map={"": torch.cuda.current_device()})
        autocast = compute if compute != torch.float32 else None
    elif device == "cuda":
        kwargs.update(dtype=compute, device_map={"": torch.cuda.current_device()})
        autocast = compute if compute != torch.float32 else None
    else:
        kwargs.update(dtype=torch.float32)
        autocast = None
    try:
        model = cls.from_pretrained(settings.base, **kwargs)
    except ImportError as exc:  # bitsandbytes / accelerate missing
        raise ModelError(f"cannot load {settings.base!r} with quantization={quant!r}: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot load the base model {settings.base!r}: {exc}") from exc
    model.config.use_cache = False
    gc_kwargs = {"use_reentrant": False}
    if quant == "nf4" or pre_quantized:
        from peft import prepare_model_for_kbit_training

        with warnings.catch_warnings():  # it calls gradient_checkpointing_enable, deprecated in transformers 5.23
            warnings.filterwarnings("ignore", message=".*gradient_checkpointing_enable.*", category=FutureWarning)
            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=settings.gradient_checkpointing,
                                                    gradient_checkpointing_kwargs=gc_kwargs)
    else:
        for p in model.parameters():
            p.requires_grad_(False)
        if settings.gradient_checkpointing:
            with warnings.catch_warnings():  # renamed activation_checkpointing_enable in 5.23; 5.17 lacks that
                warnings.filterwarnings("ignore", message=".*gradient_checkpointing_enable.*", category=FutureWarning)
                model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=gc_kwargs)
    log.info("loaded %s as %s on %s (quantization=%s)", settings.base, cls.__name__, device, quant)
    return LoadedModel(model=model, device=device, quantization=quant, autocast_dtype=autocast,
                       model_class=type(model).__name__)


def _get_peft_model(model: Any, cfg: Any) -> Any:
    from peft import get_peft_model

    with warnings.catch_warnings():  # peft 0.21 calls a property transformers 5 deprecates; not ours to fix
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, cfg)


def lora_config(lora: LoraSettings, *, inference_mode: bool = False) -> Any:
    from peft import LoraConfig

    kwargs: dict[str, Any] = {}
    if lora.exclude_modules:
        # peft matches list entries as name suffixes only; a regex makes "visual" exclude every module
        # below a component named visual (dotted paths such as "model.visual" work too).
        alts = "|".join(re.escape(e) for e in lora.exclude_modules)
        kwargs["exclude_modules"] = rf"(.*\.)?(?:{alts})(\..*)?"
    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                      target_modules=list(lora.target_modules), bias="none", task_type="CAUSAL_LM",
                      inference_mode=inference_mode, **kwargs)


def add_new_adapter(model: Any, lora: LoraSettings) -> Any:
    """Wrap the base in a PeftModel with a fresh, trainable LoRA adapter."""
    try:
        return _get_peft_model(model, lora_config(lora))
    except ValueError as exc:  # e.g. "Target modules {...} not found in the base model"
        raise InputError(f"[lora] cannot be applied to this model: {exc}") from exc


def add_saved_adapter(model: Any, adapter_dir: str | Path, *, trainable: bool = True) -> Any:
    """Wrap the base in a PeftModel carrying a saved adapter, and check every adapter weight was loaded.

    peft only warns when saved keys do not match the model's module names (an adapter then silently does
    nothing); here that is an error.
    """
    from peft import LoraConfig

    folder = Path(adapter_dir)
    if not (folder / ADAPTER_CONFIG).is_file():
        raise InputError(f"{folder} is not a LoRA adapter folder (no {ADAPTER_CONFIG})")
    cfg = LoraConfig.from_pretrained(str(folder))
    cfg.inference_mode = not trainable
    peft_model = _get_peft_model(model, cfg)
    load_adapter_weights(peft_model, folder / ADAPTER_WEIGHTS)
    return peft_model


def load_adapter_weights(peft_model: Any, weights_file: str | Path) -> None:
    """Load adapter weights saved by save_pretrained into a PeftModel; raise if any key is missing or unused."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    state = load_file(str(weights_file))
    result = set_peft_model_state_dict(peft_model, state)
    unexpected = list(getattr(result, "unexpected_keys", []) or [])
    missing = [k for k in (getattr(result, "missing_keys", []) or []) if "lora_" in k]
    if unexpected or missing:
        raise ModelError(f"adapter weights {weights_file} do not match the model: {len(unexpected)} unused key(s) "
                         f"(e.g. {unexpected[:3]}), {len(missing)} adapter weight(s) missing (e.g. {missing[:3]})")


def count_parameters(model: Any) -> ParamCount:
    """Trainable and total parameters; 4-bit weights count as their unpacked size (peft's rule)."""
    if hasattr(model, "get_nb_trainable_parameters"):
        trainable, total = model.get_nb_trainable_parameters()
        return ParamCount(int(trainable), int(total))
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return ParamCount(trainable, total)


def estimate_parameters(settings: ModelSettings, lora: LoraSettings) -> ParamCount:
    """Trainable/total parameter counts without loading weights: the model is built on the meta device."""
    import torch

    config = load_model_config(settings.base)
    cls = auto_class_for(config)
    with torch.device("meta"):
        model = cls.from_config(config)
    try:
        peft_model = _get_peft_model(model, lora_config(lora))
    except ValueError as exc:
        raise InputError(f"[lora] cannot be applied to this model: {exc}") from exc
    return count_parameters(peft_model)
