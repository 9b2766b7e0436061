"""The ``hf`` backend: a local folder loaded with transformers (``hf:PATH``).

The folder may hold a full or merged model, a pre-quantized (bitsandbytes) model, or a LoRA adapter
(see folder_kind). Causal LMs load with ``AutoModelForCausalLM``; image-text-to-text models such as
Qwen2.5-VL (the original CircuitMuse ``qwen_verilog_stage4_final/``) with ``AutoModelForImageTextToText``,
and are used text-only.

Adapters are attached with transformers' ``model.load_adapter`` (never ``PeftModel.from_pretrained``, which
loads *nothing* from Qwen2.5-VL adapters saved before transformers 4.52 and only warns), and the load is
then checked: missing adapter keys, or adapter weights in the model that differ from the file, are errors.

Precision: on CUDA, 4-bit nf4 through bitsandbytes by default (``quantization="auto"``), bf16 with
``quantization="none"``; on the CPU, fp32 by default (bf16 with ``dtype="bfloat16"``). Pre-quantized
folders keep their own quantization.

Decoding: ``decode="graph"`` (or ``"compile"``) runs fast_decode.FastDecoder: a static KV cache in length and
batch buckets, the one-token step captured in a CUDA graph, one prefill shared by the n samples, and
prompt-lookup drafts when the conversation holds an earlier answer (a repair round). Requests or models it
does not cover (another architecture, a logits processor it lacks) go to transformers' ``generate``. The
default (``decode="auto"``) is ``graph`` on CUDA and transformers' ``generate`` on the CPU, where graphs buy
nothing. The fast path gives ``generate``'s greedy tokens on the CPU (tests/test_fast_decode.py) and, with
graphs and buckets, on a GPU (tests/test_fast_decode_gpu.py); benchmarks/generation_speed.py measures it.
``quantization="int4"`` quantizes the decoder's linear layers at load time to PyTorch's own int4 weight-only
kernel (see int4).

In the ``generate`` path, samples use ``num_return_sequences`` in one call. Streaming works for any n: a streamer
decodes each sequence's new tokens and passes text deltas on as they come; ``on_chunk`` runs in the calling
thread (generate runs there too). Seeds: ``seed`` seeds torch's global generator before sampling, so the
same request and seed give the same completions on the same machine.

Nothing here reaches a hub: paths are local folders, every ``from_pretrained`` gets
``local_files_only=True``, and HF_HUB_OFFLINE defaults to 1 before transformers is first imported.
Importing this module imports neither torch nor transformers.
"""
from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ModelError
from .adapter_check import AdapterLoadError, verify_adapter_loaded
from .base import Chunk, ChunkCallback, Completion, GenerationRequest, GenerationResult, Model, build_options
from .chat_template import find_chat_template, read_template_file, tokenizer_template
from .folder_kind import ModelFolder, inspect_folder

__all__ = ["AdapterLoadError", "HFModel", "HFOptions"]

log = logging.getLogger(__name__)

BNB_PIN = "bitsandbytes==0.50.2"
DEFAULT_PROMPT_LOOKUP = 8  # draft tokens per step in a repair round (see HFOptions.prompt_lookup)


@dataclass
class HFOptions:
    """Options of the hf backend (all optional).

    Attributes:
        base_model: for adapter folders, a local folder holding the base model; overrides the adapter's
            ``base_model_name_or_path``. Default: CIRCUIT_MUSE_BASE_MODEL.
        device: "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".
        dtype: "auto" (bf16 on CUDA, fp32 on CPU), "float32", "bfloat16" or "float16". With 4-bit or 8-bit
            quantization this is the compute dtype.
        quantization: "auto" (nf4 on CUDA, none on CPU), "none", "nf4", "int8" (both bitsandbytes) or "int4"
            (the decoder's linear layers quantized at load time to PyTorch's int4 weight-only kernel, group 128;
            no extra package). Pre-quantized folders keep their own; "none" is refused for them.
        chat_template: a .jinja file or chat_template.json to use instead of the folder's template.
        attn_implementation: passed to from_pretrained (e.g. "sdpa", "eager"); default: transformers' choice.
        ignore_eos: always decode max_new_tokens tokens (for benchmarks).
        cache: for the ``generate`` path only: "dynamic" (transformers' default) or "static": a fixed-size KV
            cache, with which transformers compiles the decode step.
        decode: "auto" ("graph" on CUDA, transformers' generate on the CPU), "graph"
            (the fast path; without CUDA it runs without graphs), "compile" (as "graph", and each layer's
            element-wise work fused by torch.compile: a longer first call per shape), "loop" (the fast path's
            loop without graphs, for checks and the CPU), or "eager" (transformers' generate, no fast path).
        prompt_lookup: draft tokens per step for prompt-lookup decoding on the fast path; None (default) is
            8 when the conversation holds an assistant message (a repair round: the answer mostly repeats
            it) and 0 otherwise; 0 turns it off.
    """

    base_model: str | None = None
    device: str = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    quantization: Literal["auto", "none", "nf4", "int8", "int4"] = "auto"
    chat_template: str | None = None
    attn_implementation: str | None = None
    ignore_eos: bool = False
    cache: Literal["dynamic", "static"] = "dynamic"
    decode: Literal["auto", "graph", "compile", "loop", "eager"] = "auto"
    prompt_lookup: int | None = None

    def __post_init__(self) -> None:
        d = self.device
        if d not in ("auto", "cpu", "cuda") and not (d.startswith("cuda:") and d[5:].isdigit()):
            raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', not {d!r}")
        if self.prompt_lookup is not None and not 0 <= self.prompt_lookup <= 32:
            raise ValueError(f"prompt_lookup must be between 0 and 32 draft tokens, not {self.prompt_lookup}")


def _has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _import_torch_stack() -> tuple[Any, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    missing = [m for m in ("torch", "transformers") if not _has_module(m)]
    if missing:
        raise ModelError(
            f"The hf backend needs {' and '.join(missing)}: pip install 'circuit-muse[hf]' "
            "(torch, transformers==5.23.0, peft==0.21.2, accelerate). Or use an OpenAI-compatible server "
            "with openai:BASE_URL#MODEL_NAME."
        )
    import torch
    import transformers

    return torch, transformers


class HFModel(Model):
    """A model in a local folder, run in-process with transformers."""

    backend = "hf"
    Options = HFOptions

    def __init__(self, path: str | os.PathLike[str], *, spec: str | None = None, **options: object) -> None:
        self.spec = spec or f"hf:{path}"
        self.options: HFOptions = build_options(HFOptions, options, backend=self.backend)
        self.folder: ModelFolder = inspect_folder(path, base_model=self.options.base_model)
        if self.options.chat_template is not None and not Path(self.options.chat_template).is_file():
            raise ModelError(f"The chat_template option names {self.options.chat_template!r}, which is not a file.")
        self._lock = threading.RLock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._eos_ids: list[int] = []
        self._pad_id: int | None = None
        self.device: str | None = None
        self.dtype: str | None = None
        self.quantization: str | None = None
        self.adapter_report: dict[str, Any] | None = None
        self.int4_report: dict[str, Any] | None = None
        self._fast: Any = None  # fast_decode.FastDecoder, built on first use
        self._fast_unsupported: str | None = None  # why the model cannot use the fast path

    @classmethod
    def from_spec(cls, spec: str, **options: object) -> HFModel:
        path = spec[len("hf:"):] if spec.startswith("hf:") else spec
        if not path.strip():
            raise ModelError("hf:PATH needs a folder, e.g. hf:/models/qwen_verilog_stage4_final.")
        return cls(path.strip(), spec=spec, **options)

    # ------------------------------------------------------------------ loading

    @property
    def model(self) -> Any:
        self.load()
        return self._model

    @property
    def tokenizer(self) -> Any:
        self.load()
        return self._tokenizer

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def describe(self) -> dict[str, Any]:
        """What was (or will be) loaded, for logs and reports."""
        f = self.folder
        return {
            "spec": self.spec,
            "kind": f.kind,
            "weights": str(f.weights_path),
            "adapter": str(f.adapter_path) if f.adapter_path else None,
            "model_type": f.model_type,
            "class": type(self._model).__name__ if self._model is not None else None,
            "device": self.device,
            "dtype": self.dtype,
            "quantization": self.quantization,
        }

    def load(self) -> HFModel:
        """Load the weights, adapter and tokenizer (once; later calls return at once)."""
        with self._lock:
            if self._model is None:
                self._load()
        return self

    def _resolve_device(self, torch: Any) -> str:
        want = self.options.device
        if want == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if want.startswith("cuda") and not torch.cuda.is_available():
            raise ModelError(f"device={want!r} was asked for, but torch sees no CUDA GPU. Use device='cpu'.")
        return want

    def _resolve_quantization(self, device: str) -> str:
        f, want = self.folder, self.options.quantization
        if f.quant_method is not None:
            if want == "none":
                raise ModelError(
                    f"{f.weights_path} holds a pre-quantized ({f.quant_method}) model; it cannot be loaded "
                    "unquantized. Drop quantization='none' (or point at unquantized weights)."
                )
            if want in ("nf4", "int8", "int4"):
                log.info("%s is pre-quantized (%s); ignoring quantization=%s", f.weights_path, f.quant_method, want)
            return f"prequantized:{f.quant_method}"
        if want == "auto":
            return "nf4" if device.startswith("cuda") else "none"
        if want != "none" and not device.startswith("cuda"):
            log.warning("quantization=%s on the CPU through bitsandbytes is slow; fp32/bf16 is usually faster", want)
        return want

    def _resolve_dtype(self, torch: Any, device: str) -> Any:
        want = self.options.dtype
        if want == "auto":
            if device.startswith("cuda"):
                return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            return torch.float32
        return getattr(torch, want)

    def _auto_class(self, transformers: Any) -> Any:
        from transformers.models.auto import modeling_auto

        mt = self.folder.model_type
        if mt in modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
            return transformers.AutoModelForCausalLM
        if mt in getattr(modeling_auto, "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES", {}):
            return transformers.AutoModelForImageTextToText
        raise ModelError(
            f"{self.folder.weights_path} holds a {mt!r} model, which transformers {transformers.__version__} "
            "cannot load as a text generator (neither a causal LM nor an image-text-to-text model)."
        )

    def _load(self) -> None:
        torch, transformers = _import_torch_stack()
        f = self.folder
        device = self._resolve_device(torch)
        quant = self._resolve_quantization(device)
        dtype = self._resolve_dtype(torch, device)
        needs_bnb = quant in ("nf4", "int8") or quant == "prequantized:bitsandbytes"
        if needs_bnb and not _has_module("bitsandbytes"):
            raise ModelError(
                f"Loading {f.weights_path} with quantization={quant.split(':')[0]} needs bitsandbytes: "
                f"pip install {BNB_PIN}. Or load in bf16 with the option quantization='none' (about 2 bytes "
                "per parameter of GPU memory)."
            )
        kwargs: dict[str, Any] = {"dtype": dtype, "local_files_only": True, "trust_remote_code": False}
        if quant == "nf4":
            kwargs["quantization_config"] = transformers.BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=dtype,
            )
        elif quant == "int8":
            kwargs["quantization_config"] = transformers.BitsAndBytesConfig(load_in_8bit=True)
        if device.startswith("cuda"):
            index = int(device.split(":")[1]) if ":" in device else torch.cuda.current_device()
            kwargs["device_map"] = {"": index}
        if quant == "int4" and self.options.dtype == "auto":
            kwargs["dtype"] = dtype = torch.bfloat16  # the int4 kernel computes in bf16
        if self.options.attn_implementation:
            kwargs["attn_implementation"] = self.options.attn_implementation
        cls = self._auto_class(transformers)
        log.info("loading %s (%s, %s) with %s on %s, dtype=%s, quantization=%s", f.weights_path, f.kind,
                 f.model_type, cls.__name__, device, str(dtype).replace("torch.", ""), quant)
        t0 = time.monotonic()
        try:
            with _quiet_transformers(transformers):
                model = cls.from_pretrained(str(f.weights_path), **kwargs)
        except ModelError:
            raise
        except (OSError, ValueError, RuntimeError, ImportError, TypeError, KeyError) as exc:
            raise ModelError(f"transformers could not load {f.weights_path}: {exc}") from exc
        if f.adapter_path is not None:
            self.adapter_report = self._attach_adapter(model, f.adapter_path)
        if quant == "int4":
            from .int4 import quantize_model_int4

            self.int4_report = quantize_model_int4(model)
            log.info("int4: %d linear layers quantized (%.2f GB)", self.int4_report["replaced"],
                     self.int4_report["int4_bytes"] / 1e9)
        model.eval()
        tokenizer = self._load_tokenizer(transformers)
        gen = model.generation_config
        eos = gen.eos_token_id if gen.eos_token_id is not None else tokenizer.eos_token_id
        eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
        if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in eos_ids:
            eos_ids.append(tokenizer.eos_token_id)
        if not eos_ids:
            raise ModelError(f"Neither the generation config nor the tokenizer of {f.path} names an EOS token.")
        pad = gen.pad_token_id if gen.pad_token_id is not None else tokenizer.pad_token_id
        self._eos_ids = eos_ids
        self._pad_id = pad if pad is not None else eos_ids[0]
        self._model, self._tokenizer = model, tokenizer
        self.device = str(model.device)
        self.dtype = str(dtype).replace("torch.", "")
        self.quantization = quant
        log.info("loaded %s in %.1f s", self.spec, time.monotonic() - t0)

    def _attach_adapter(self, model: Any, adapter: Path) -> dict[str, Any]:
        if not _has_module("peft"):
            raise ModelError(f"{adapter} is a LoRA adapter; loading it needs peft: pip install peft==0.21.2.")
        try:
            info = model.load_adapter(str(adapter), adapter_name="default",
                                      adapter_kwargs={"local_files_only": True})
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
            raise AdapterLoadError(f"The LoRA adapter in {adapter} could not be attached: {exc}") from exc
        missing = sorted(getattr(info, "missing_keys", None) or []) if info is not None else []
        if missing:
            raise AdapterLoadError(
                f"The LoRA adapter in {adapter} left {len(missing)} adapter weight(s) unloaded (e.g. "
                f"{', '.join(missing[:3])}). Its keys do not match this base model: check that the base model "
                "is the one the adapter was trained on."
            )
        return verify_adapter_loaded(model, adapter)

    def _load_tokenizer(self, transformers: Any) -> Any:
        f = self.folder
        # A folder whose tokenizer_config names the generic class is loaded through it: AutoTokenizer would
        # pick the model type's class (Qwen2Tokenizer for a qwen2 config) and replace the folder's own
        # pre-tokenizer, so the ids would differ from those the model was trained on (circuit-muse-nano).
        cls = transformers.PreTrainedTokenizerFast if _names_generic_tokenizer(f.tokenizer_path) \
            else transformers.AutoTokenizer
        try:
            tokenizer = cls.from_pretrained(str(f.tokenizer_path), local_files_only=True)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"Could not load the tokenizer in {f.tokenizer_path}: {exc}") from exc
        if self.options.chat_template:
            path = Path(self.options.chat_template)
            tokenizer.chat_template = read_template_file(path)
            log.info("chat template from %s (option)", path)
        elif tokenizer_template(tokenizer) is None:
            found = find_chat_template(f.template_search_path)
            if found is None:
                raise ModelError(
                    f"No chat template: the tokenizer in {f.tokenizer_path} has none, and no chat_template.jinja "
                    f"or chat_template.json is in {', '.join(str(p) for p in f.template_search_path)}. Copy "
                    "chat_template.json from the base model's folder, or pass the chat_template option."
                )
            tokenizer.chat_template, where = found
            log.info("chat template from %s", where)
        tokenizer.padding_side = "left"
        return tokenizer

    def close(self) -> None:
        with self._lock:
            if self._model is None:
                return
            self._model = None
            self._tokenizer = None
            self._fast = None
            gc.collect()
            torch = importlib.import_module("torch")
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    # ------------------------------------------------------------------ generation

    def prompt_ids(self, request: GenerationRequest) -> Any:
        """The request's messages through the chat template, as input ids (1 x L) on the model's device."""
        tok = self.tokenizer
        messages = [m.to_dict() for m in request.messages]
        try:
            enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_dict=True,
                                          return_tensors="pt")
        except Exception as exc:  # jinja errors come in many types
            raise ModelError(f"The chat template of {self.folder.path} failed on these messages: {exc}") from exc
        return enc["input_ids"].to(self._model.device), enc["attention_mask"].to(self._model.device)

    def _generation_kwargs(self, request: GenerationRequest, rows: int, greedy: bool) -> dict[str, Any]:
        """The generation settings of a request, as transformers' generate takes them (no stop strings)."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": request.max_new_tokens,
            "num_return_sequences": rows,
            "pad_token_id": self._pad_id,
            "eos_token_id": self._eos_ids,
            "do_sample": not greedy,
        }
        if greedy:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        else:
            if request.temperature is not None:
                kwargs["temperature"] = request.temperature
            if request.top_p is not None:
                kwargs["top_p"] = request.top_p
        if self.options.ignore_eos:
            kwargs["min_new_tokens"] = request.max_new_tokens
        return kwargs

    def decode_path(self) -> str:
        """How requests decode now: "graph", "loop" (the fast path with or without CUDA graphs) or "eager"."""
        want = self.options.decode
        if want == "eager" or self._fast_unsupported is not None:
            return "eager"
        cuda = str(self.device or "").startswith("cuda")
        if want == "auto":
            return "graph" if cuda else "eager"
        if want in ("graph", "compile") and cuda:
            return want
        return "loop"

    def _fast_decoder(self, path: str) -> Any:
        from .fast_decode import FastDecoder, FastDecodeUnsupported

        if self._fast is None:
            try:
                self._fast = FastDecoder(self._model, eos_ids=self._eos_ids, use_graphs=path in ("graph", "compile"),
                                         compile_layers=path == "compile")
            except FastDecodeUnsupported as exc:
                self._fast_unsupported = str(exc)
                log.info("%s decodes with transformers' generate: the fast path does not cover %s", self.spec, exc)
                raise
        return self._fast

    def _effective_generation_config(self, kwargs: dict[str, Any]) -> Any:
        """The GenerationConfig that generate would use for these kwargs (model defaults merged in)."""
        from .fast_decode import FastDecodeUnsupported

        model = self._model
        prepare = getattr(model, "_prepare_generation_config", None)
        try:
            if prepare is not None:
                got = prepare(None, **kwargs)
                return got[0] if isinstance(got, tuple) else got
            import copy

            config = copy.deepcopy(model.generation_config)
            config.update(**kwargs)
            return config
        except (TypeError, ValueError, AttributeError) as exc:
            raise FastDecodeUnsupported(f"generation config: {exc}") from exc

    def _prompt_lookup(self, request: GenerationRequest) -> int:
        k = self.options.prompt_lookup
        if k is None:
            k = DEFAULT_PROMPT_LOOKUP if any(m.role == "assistant" for m in request.messages) else 0
        return k

    def _fast_plan(self, request: GenerationRequest, prompt_len: int) -> tuple[Any, int, Any, int]:
        """(decoder, rows, sampling, prompt-lookup drafts) for a request on the fast path."""
        from .fast_decode import sampling_from_generation_config

        greedy = request.temperature == 0
        rows = 1 if greedy else request.n
        fast = self._fast_decoder(self.decode_path())
        config = self._effective_generation_config(self._generation_kwargs(request, rows, greedy))
        sampling = sampling_from_generation_config(config, max_new_tokens=request.max_new_tokens,
                                                   prompt_tokens=prompt_len)
        return fast, rows, sampling, self._prompt_lookup(request)

    def warmup(self, requests: Sequence[GenerationRequest]) -> dict[str, Any]:
        """Capture now the CUDA graphs that requests shaped like these would capture on their first call.

        A shape is (samples, prompt + max_new_tokens rounded up to the length bucket, sampling settings); the
        service and the bench keep the model loaded, so this is paid once per process. Returns the seconds
        spent and what was captured. Does nothing when the fast path is off.
        """
        t0 = time.monotonic()
        captured: list[dict[str, Any]] = []
        with self._lock:
            self.load()
            if self.decode_path() == "eager":
                return {"seconds": 0.0, "captured": [], "decode": "eager"}
            from .fast_decode import FastDecodeUnsupported

            for request in requests:
                request.validate()
                prompt_len = int(self.prompt_ids(request)[0].shape[1])
                try:
                    fast, rows, sampling, lookup = self._fast_plan(request, prompt_len)
                except FastDecodeUnsupported as exc:
                    log.info("warm-up skipped for one request: %s", exc)
                    continue
                lookahead = lookup + 1 if lookup else 0
                captured += fast.prepare(rows, prompt_len + request.max_new_tokens + lookahead, sampling, lookup)
        return {"seconds": round(time.monotonic() - t0, 3), "captured": captured, "decode": self.decode_path()}

    def stream(self, request: GenerationRequest, on_chunk: ChunkCallback | None = None) -> GenerationResult:
        request.validate()
        with self._lock:
            self.load()
            torch = importlib.import_module("torch")
            t0 = time.monotonic()
            input_ids, attention_mask = self.prompt_ids(request)
            prompt_len = int(input_ids.shape[1])
            n = request.n
            greedy = request.temperature == 0
            rows = 1 if greedy else n  # greedy samples are all the same: decode once, copy
            stops = list(request.stop or [])

            emit: Callable[[int, str], None] | None = None
            if on_chunk is not None:
                def emit(row: int, text: str) -> None:
                    for index in (range(n) if greedy else (row,)):
                        on_chunk(Chunk(index=index, text=text))

            fallback: str | None = None
            if self.decode_path() != "eager":
                from .fast_decode import FastDecodeUnsupported

                try:
                    return self._stream_fast(request, input_ids, stops, emit, t0)
                except FastDecodeUnsupported as exc:
                    fallback = str(exc)
                    log.info("this request decodes with transformers' generate: %s", exc)

            kwargs = self._generation_kwargs(request, rows, greedy)
            if self.options.cache == "static":
                kwargs["cache_implementation"] = "static"
            if stops:
                kwargs["stop_strings"] = stops
                kwargs["tokenizer"] = self._tokenizer
            if request.seed is not None:
                torch.manual_seed(request.seed)
                if torch.cuda.is_available():
                    torch.cuda.manual_seed_all(request.seed)

            streamer = _SequenceStreamer(self._tokenizer, rows, self._eos_ids, stops, emit)
            try:
                with torch.inference_mode():
                    out = self._model.generate(
                        input_ids=input_ids, attention_mask=attention_mask, streamer=streamer, **kwargs
                    )
            except ModelError:
                raise
            except (RuntimeError, ValueError, TypeError) as exc:
                raise ModelError(f"Generation with {self.spec} failed: {exc}") from exc
            sequences = out if not hasattr(out, "sequences") else out.sequences
            rows_ids = [sequences[row, prompt_len:].tolist() for row in range(rows)]
            extra: dict[str, Any] = {"decode": "eager"}
            if fallback is not None:
                extra["fast_path_declined"] = fallback
            return self._result(request, rows_ids, streamer, prompt_len, t0, extra)

    def _stream_fast(self, request: GenerationRequest, input_ids: Any, stops: list[str],
                     emit: Callable[[int, str], None] | None, t0: float) -> GenerationResult:
        """stream() on fast_decode.FastDecoder; raises FastDecodeUnsupported before decoding anything."""
        torch = importlib.import_module("torch")
        prompt = input_ids[0].tolist()
        fast, rows, sampling, lookup = self._fast_plan(request, len(prompt))
        if stops and emit is None:
            def emit(row: int, text: str) -> None:  # the streamer must still follow the text to find stops
                return None
        streamer = _SequenceStreamer(self._tokenizer, rows, self._eos_ids, stops, emit)
        streamer.prompt_seen = True
        eos = set(self._eos_ids)

        def on_token(column: list[int]) -> list[int]:
            before = list(streamer.done)
            streamer.put(torch.tensor(column))
            return [r for r in range(rows) if streamer.done[r] and not before[r] and column[r] not in eos]

        try:
            out = fast.generate(prompt, rows=rows, max_new_tokens=request.max_new_tokens, sampling=sampling,
                                seed=request.seed, on_token=on_token, prompt_lookup=lookup)
        except ModelError:
            raise
        except (RuntimeError, ValueError, TypeError) as exc:
            raise ModelError(f"Generation with {self.spec} failed on the fast path: {exc}. The option "
                             "decode=eager uses transformers' generate instead.") from exc
        streamer.end()
        extra = {
            "decode": ("compile" if out.compiled else "graph") if out.graphs else "loop",
            "slot": list(out.slot),
            "steps": out.steps,
            "captured": out.captures,
            "prompt_lookup": lookup,
            "lookup_steps": out.lookup_steps,
            "lookup_accepted": out.lookup_accepted,
        }
        return self._result(request, out.tokens, streamer, len(prompt), t0, extra)

    def _result(self, request: GenerationRequest, rows_ids: list[list[int]], streamer: Any, prompt_len: int,
                t0: float, extra: dict[str, Any]) -> GenerationResult:
        """Completions from each row's generated ids (EOS, padding and stop strings cut), with timing."""
        stops = list(request.stop or [])
        completions = []
        for row, gen_ids in enumerate(rows_ids):
            text, count, finish = self._finish(gen_ids, stops, request.max_new_tokens)
            streamer.flush_to(row, text)
            completions.append(Completion(index=row, text=text, completion_tokens=count, finish_reason=finish))
        if request.temperature == 0 and request.n > 1:
            first = completions[0]
            completions = [Completion(i, first.text, first.completion_tokens, first.finish_reason)
                           for i in range(request.n)]
        ttft = None if streamer.first_token_at is None else streamer.first_token_at - t0
        return GenerationResult(
            completions=completions,
            prompt_tokens=prompt_len,
            duration_s=time.monotonic() - t0,
            time_to_first_token_s=ttft,
            model=self.spec,
            extra={"device": self.device, "dtype": self.dtype, "quantization": self.quantization, **extra},
        )

    def _finish(self, gen_ids: list[int], stops: Sequence[str], max_new: int) -> tuple[str, int, str]:
        """Text, token count and finish reason of one generated row (EOS, padding and stop strings cut)."""
        eos = set(self._eos_ids)
        cut = next((i for i, t in enumerate(gen_ids) if t in eos), None)
        if cut is not None:
            body, count, finish = gen_ids[:cut], cut + 1, "stop"
        else:
            # Rows that a stop string ended early are padded up to the longest row: drop the padding.
            body = list(gen_ids)
            while body and self._pad_id is not None and body[-1] == self._pad_id:
                body.pop()
            count = len(body)
            finish = "length" if count >= max_new else "stop"
        text = self._tokenizer.decode(body, skip_special_tokens=True)
        hit = _first_stop(text, stops)
        if hit is not None:
            text, finish = text[:hit], "stop"
        return text, count, finish


@contextlib.contextmanager
def _quiet_transformers(transformers: Any) -> Iterator[None]:
    """No "Loading weights" progress bar from transformers on the caller's terminal (library code never
    prints); the caller's own setting is restored afterwards."""
    tlog = transformers.utils.logging
    was_on = tlog.is_progress_bar_enabled()
    tlog.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            tlog.enable_progress_bar()


def _first_stop(text: str, stops: Sequence[str]) -> int | None:
    hits = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(hits) if hits else None


def _streamer_base() -> type:
    from transformers.generation.streamers import BaseStreamer

    return BaseStreamer


GENERIC_TOKENIZER_CLASSES = ("PreTrainedTokenizerFast", "TokenizersBackend")


def _names_generic_tokenizer(folder: Path) -> bool:
    """Whether folder/tokenizer_config.json asks for transformers' generic fast tokenizer by name."""
    try:
        config = json.loads((Path(folder) / "tokenizer_config.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("tokenizer_class") in GENERIC_TOKENIZER_CLASSES


class _SequenceStreamer:
    """Per-sequence incremental decoding for `generate(streamer=...)` with any number of sequences.

    transformers' TextIteratorStreamer handles one sequence only. This one receives the (rows,) tensor of
    each step's tokens, keeps each row's tokens, and passes on the new text of each row: it holds back an
    incomplete UTF-8 character ("\\ufffd") and the tail that could still become a stop string, and stops a
    row at EOS or at a stop string. Decoding works on a window that restarts after each newline, with a few
    tokens of left context, so the cost stays linear in the output length.
    """

    _CONTEXT = 4

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # Subclass transformers' BaseStreamer lazily so that importing this module needs no transformers.
        base = _streamer_base()
        if not issubclass(cls, base):
            cls = type(cls.__name__, (cls, base), {})
        return object.__new__(cls)

    def __init__(self, tokenizer: Any, rows: int, eos_ids: Sequence[int], stops: Sequence[str],
                 emit: Callable[[int, str], None] | None) -> None:
        self.tokenizer = tokenizer
        self.rows = rows
        self.eos = set(eos_ids)
        self.stops = [s for s in stops if s]
        self.hold = max((len(s) for s in self.stops), default=1) - 1
        self.emit = emit
        self.prompt_seen = False
        self.first_token_at: float | None = None
        self.tokens: list[list[int]] = [[] for _ in range(rows)]
        self.done = [False] * rows
        self.settled = [""] * rows  # text of tokens before the window
        self.window = [0] * rows  # index where the window starts
        self.sent = [""] * rows  # text passed on so far

    def put(self, value: Any) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        if self.first_token_at is None:
            self.first_token_at = time.monotonic()
        if self.emit is None:
            return
        ids = value.reshape(-1).tolist()
        for row, tid in enumerate(ids[: self.rows]):
            if self.done[row]:
                continue
            if tid in self.eos:
                self._advance(row, final=True)
                self.done[row] = True
                continue
            self.tokens[row].append(int(tid))
            self._advance(row)

    def end(self) -> None:
        if self.emit is None:
            return
        for row in range(self.rows):
            if not self.done[row]:
                self._advance(row, final=True)

    def _text(self, row: int) -> str:
        toks, start = self.tokens[row], self.window[row]
        ctx = toks[max(0, start - self._CONTEXT):start]
        decode = self.tokenizer.decode
        full = decode(ctx + toks[start:], skip_special_tokens=True)
        prefix = decode(ctx, skip_special_tokens=True) if ctx else ""
        window_text = full[len(prefix):] if full.startswith(prefix) else decode(toks[start:], skip_special_tokens=True)
        text = self.settled[row] + window_text
        if window_text.endswith("\n"):
            self.settled[row] = text
            self.window[row] = len(toks)
        return text

    def _advance(self, row: int, final: bool = False) -> None:
        text = self._text(row)
        if text.endswith("\ufffd") and not final:
            return
        hit = _first_stop(text, self.stops)
        if hit is not None:
            self.done[row] = True
            self._send(row, text[:hit])
            return
        self._send(row, text if final else text[: max(len(self.sent[row]), len(text) - self.hold)])

    def _send(self, row: int, upto: str) -> None:
        sent = self.sent[row]
        if len(upto) > len(sent) and upto.startswith(sent):
            assert self.emit is not None
            self.emit(row, upto[len(sent):])
            self.sent[row] = upto

    def flush_to(self, row: int, final: str) -> None:
        """After generate: pass on whatever of the final text was not sent yet."""
        if self.emit is None:
            return
        if final.startswith(self.sent[row]):
            self._send(row, final)
        else:
            log.debug("streamed text of row %d is not a prefix of the final text; not flushing", row)
