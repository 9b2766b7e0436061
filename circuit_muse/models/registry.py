"""Choose a model by one string: ``hf:PATH``, ``openai:BASE_URL#MODEL_NAME`` or ``nano`` (shipped).

`get_model(spec, **options)` looks the prefix up in `BACKENDS` (name -> Model class) and builds the model
with strict options. With no spec, it reads CIRCUIT_MUSE_MODEL, then falls back to circuit-muse-nano.
Third-party backends can register under the ``circuit_muse.models`` entry-point group (name = prefix, value = a Model subclass).
"""
from __future__ import annotations

import logging
import os
from importlib import metadata

from ..errors import ModelError
from .base import Model
from .hf_backend import HFModel
from .openai_backend import OpenAIModel

__all__ = ["BACKENDS", "ENV_VAR", "NO_MODEL_HELP", "get_model", "register_backend", "split_spec"]

log = logging.getLogger(__name__)

ENV_VAR = "CIRCUIT_MUSE_MODEL"
ENTRY_POINT_GROUP = "circuit_muse.models"

BACKENDS: dict[str, type[Model]] = {
    HFModel.backend: HFModel,
    OpenAIModel.backend: OpenAIModel,
}

SPEC_FORMS = (
    "  hf:PATH                      a local folder: a full or merged model, a bitsandbytes-quantized model,\n"
    "                               or a LoRA adapter (e.g. hf:/models/qwen_verilog_stage4_final)\n"
    "  openai:BASE_URL#MODEL_NAME   any OpenAI-compatible server (e.g. openai:http://localhost:8000/v1#verilog)\n"
    "  nano                         circuit-muse-nano, the small model shipped in the package (the default)"
)

# The same choices on one line, for the errors a mistyped spec gets (bad input is one line).
SPEC_FORMS_LINE = ("use hf:PATH (a local model folder), openai:BASE_URL#MODEL_NAME (an OpenAI-compatible server, "
                   "e.g. openai:http://localhost:8000/v1#verilog) or nano (the shipped model)")

NO_MODEL_HELP = (
    "No model is configured. Pass one (--model SPEC, or get_model(SPEC)) or set the environment variable "
    f"{ENV_VAR}. A spec has one of these forms:\n"
    f"{SPEC_FORMS}\n"
    "Examples:\n"
    f"  export {ENV_VAR}=hf:/models/qwen_verilog_stage4_final\n"
    "  vLLM:      vllm serve /models/merged --served-model-name verilog --port 8000\n"
    f"             export {ENV_VAR}='openai:http://localhost:8000/v1#verilog'\n"
    "  Ollama:    ollama pull qwen2.5-coder:7b\n"
    f"             export {ENV_VAR}='openai:http://localhost:11434/v1#qwen2.5-coder:7b'\n"
    "  llama.cpp: llama-server -m model.gguf --port 8080\n"
    f"             export {ENV_VAR}='openai:http://localhost:8080/v1#model'\n"
    "For a server that needs a key, set CIRCUIT_MUSE_API_KEY (or OPENAI_API_KEY)."
)


def register_backend(cls: type[Model]) -> type[Model]:
    """Add a backend class under its `backend` prefix (usable as a decorator)."""
    name = getattr(cls, "backend", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise ModelError(f"{cls!r} has no valid `backend` name; set backend = 'name' on the class.")
    BACKENDS[name] = cls
    return cls


def _load_entry_point(name: str) -> type[Model] | None:
    try:
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # pragma: no cover - broken metadata must not break model selection
        log.debug("could not read entry points", exc_info=True)
        return None
    for ep in eps:
        if ep.name == name:
            try:
                cls = ep.load()
            except Exception as exc:
                raise ModelError(
                    f"The model backend {name!r} from entry point {ep.value!r} failed to load: {exc}"
                ) from exc
            if not (isinstance(cls, type) and issubclass(cls, Model)):
                raise ModelError(f"Entry point {ep.value!r} for backend {name!r} is not a Model subclass.")
            BACKENDS[name] = cls
            return cls
    return None


def split_spec(spec: str) -> tuple[str, str]:
    """Split ``"prefix:rest"`` and check the prefix names a backend; return (prefix, rest)."""
    spec = spec.strip()
    prefix, sep, rest = spec.partition(":")
    if not sep or not prefix:
        hint = ""
        if os.path.exists(os.path.expanduser(spec)):
            hint = f" It looks like a local folder: did you mean 'hf:{spec}'?"
        raise ModelError(f"Model spec {spec!r} has no backend prefix.{hint} To choose a model, {SPEC_FORMS_LINE}.")
    if prefix not in BACKENDS and _load_entry_point(prefix) is None:
        hint = ""
        if prefix in ("http", "https"):
            hint = f" It looks like a URL: did you mean 'openai:{spec}#MODEL_NAME'?"
        raise ModelError(
            f"Unknown model backend {prefix!r} in spec {spec!r}.{hint} Known backends: "
            f"{', '.join(sorted(BACKENDS))}; {SPEC_FORMS_LINE}."
        )
    if not rest.strip():
        raise ModelError(f"Model spec {spec!r} is missing what comes after '{prefix}:'; {SPEC_FORMS_LINE}.")
    return prefix, rest.strip()


def _shipped_nano_spec() -> str:
    """``hf:<package path>`` of circuit-muse-nano, the offline default; without its weights, say how to pick one."""
    from .. import nano

    if not nano.is_available(nano.MODEL_DIR):
        raise ModelError(NO_MODEL_HELP)
    nano.prefer_cpu_threads()
    return nano.model_spec(nano.MODEL_DIR)


def get_model(spec: str | None = None, **options: object) -> Model:
    """Build the model named by `spec` (or by CIRCUIT_MUSE_MODEL when spec is None, else the shipped
    circuit-muse-nano; ``"nano"`` names it too).

    Options go to the backend's strict `Options` dataclass: an unknown key raises ModelError listing the
    valid ones. Building a model checks its configuration (folder shape, URL) but loads no weights and opens
    no connection; that happens on first use.

    Raises:
        ModelError: no model configured, malformed spec, unknown backend or option, unusable folder.
    """
    if spec is None or not spec.strip():
        spec = os.environ.get(ENV_VAR, "").strip()
        if not spec:
            spec = _shipped_nano_spec()
        log.debug("model spec from %s: %s", ENV_VAR, spec)
    if spec.strip() == "nano":
        spec = _shipped_nano_spec()
    prefix, _rest = split_spec(spec)
    cls = BACKENDS[prefix]
    return cls.from_spec(spec.strip(), **options)  # type: ignore[attr-defined]
