"""Model backends behind one small interface: ``get_model("hf:PATH" | "openai:BASE_URL#MODEL_NAME")``.

    from circuit_muse.models import GenerationRequest, Message, get_model

    model = get_model("openai:http://localhost:8000/v1#verilog")   # or None: CIRCUIT_MUSE_MODEL
    result = model.stream(GenerationRequest([Message("user", "A 4-bit counter")], n=4),
                          on_chunk=lambda c: print(c.index, c.text))

Importing this package imports neither torch nor transformers; the hf backend loads them on first use.
"""
from __future__ import annotations

from ..errors import ModelError
from .base import Chunk, Completion, GenerationRequest, GenerationResult, Message, Model, build_options
from .hf_backend import AdapterLoadError, HFModel, HFOptions
from .openai_backend import OpenAIModel, OpenAIOptions, ServerError
from .registry import BACKENDS, ENV_VAR, NO_MODEL_HELP, get_model, register_backend, split_spec

__all__ = [
    "BACKENDS",
    "ENV_VAR",
    "NO_MODEL_HELP",
    "AdapterLoadError",
    "Chunk",
    "Completion",
    "GenerationRequest",
    "GenerationResult",
    "HFModel",
    "HFOptions",
    "Message",
    "Model",
    "ModelError",
    "OpenAIModel",
    "OpenAIOptions",
    "ServerError",
    "build_options",
    "get_model",
    "register_backend",
    "split_spec",
]
