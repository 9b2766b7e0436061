"""Fast decoding for the hf backend: a static KV cache, a hand-written decode step, CUDA graphs.

Why: transformers' ``generate`` on a GPU is bound by host work, not by the GPU: every decode step launches
about a thousand small kernels from Python and synchronises for its stopping checks, so a 7B model decodes
at 5-15% of what memory bandwidth allows (benchmarks/results/generation_speed_*.md).

How (the gpt-fast recipe, on the model's own modules and weights):

- ``FastDecoder`` runs the decoder layers of a Qwen2-family model itself (Qwen2, and Qwen2.5-VL used
  text-only: with text positions in all three rope sections, mrope is plain rope). It calls the model's
  own linear modules, so LoRA adapters, bitsandbytes nf4 and int4 layers work unchanged; plain bf16/fp32
  projections are fused (q,k,v into one matrix, gate and up into one) by making the module weights views
  of one tensor, which costs no memory.
- KV cache: static tensors per *slot*, a (batch bucket, length bucket) pair: batch 1, 2, 4, 8, ...;
  length a power of two from 256 that holds prompt + new tokens. The repair loop's growing prompts land in
  the same slot, so nothing is re-captured; attention reads the whole length bucket under a mask.
- The prompt is prefilled once, for one row; its keys and values are copied to the other rows, so n samples
  share one prefill.
- The one-token step (embedding, layers, LM head, repetition penalty, temperature, top-k/top-p, sampling,
  writing the next input) is captured in a CUDA graph per (slot, sampling mode); temperature, top-p and
  the penalty are device tensors, so changing them needs no new capture. Replays chain on the device;
  the host reads each step's tokens two steps later (pinned copy + event), which is when EOS and stop
  strings are checked and text is streamed, so the GPU never waits for the host.
- Prompt-lookup decoding (``prompt_lookup`` draft tokens): the draft is the continuation of the latest
  earlier occurrence of the last tokens in prompt + output (the previous candidate in a repair prompt);
  one step checks all drafts, sampling each position from the model and keeping the drafts up to the first
  one that differs from the model's own sample, so the output distribution is unchanged. Rows advance
  together (by the smallest accepted count), so it works for several samples too.
- ``compile_layers`` (``decode="compile"``): each layer's pieces around attention (norm, q/k/v, rope; output
  projection, residual, norm, SiLU MLP) go through torch.compile once per shape, shared by all layers, which
  fuses the small element-wise kernels the graph would otherwise replay. Quantized (nf4, int4) or LoRA layers
  keep their own linear modules and compile only the element-wise work between them (rope, residual + norm,
  SiLU gate). The compile is the warm-up cost (torch's inductor cache on disk keeps it for the next process).
- Without CUDA (or with ``use_graphs=False``) the same loop runs eagerly: that is what the CPU tests run.

Seeds: the request's seed is set after any capture and before prefill, so the same request and seed give
the same tokens on the same machine, first call or not. Sampling uses the Gumbel-max form of a categorical
draw (argmax of p / Exp(1)), inside the graph.

Supported: decoder-only ``qwen2`` and ``qwen2_5_vl`` models, all layers full attention, sdpa or eager
attention, default rope. Anything else raises ``FastDecodeUnsupported``, and the hf backend falls back to
``generate``. This module imports torch; the hf backend imports it only when it uses it.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

__all__ = [
    "BATCH_BUCKETS",
    "FastDecodeUnsupported",
    "FastDecoder",
    "FastOutput",
    "Sampling",
    "batch_bucket",
    "length_bucket",
    "sampling_from_generation_config",
]

log = logging.getLogger(__name__)

SUPPORTED_MODEL_TYPES = frozenset({"qwen2", "qwen2_5_vl"})
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
MIN_LENGTH_BUCKET = 256
PIPELINE_DEPTH = 2  # the host reads step i's tokens once step i + PIPELINE_DEPTH is queued
NGRAM_SIZES = (3, 2, 1)  # prompt lookup: longest match first


class FastDecodeUnsupported(Exception):
    """The model or the request needs something the fast path does not do; transformers' generate does it."""


def batch_bucket(rows: int) -> int:
    """The smallest batch bucket that holds `rows` rows."""
    for b in BATCH_BUCKETS:
        if rows <= b:
            return b
    raise FastDecodeUnsupported(f"{rows} rows is more than the largest batch bucket ({BATCH_BUCKETS[-1]})")


def length_bucket(tokens: int, max_positions: int | None = None) -> int:
    """The KV-cache length for `tokens` positions: a power of two from 256, capped by the model's window."""
    length = MIN_LENGTH_BUCKET
    while length < tokens:
        length *= 2
    if max_positions and length > max_positions:
        if tokens > max_positions:
            raise FastDecodeUnsupported(f"{tokens} positions is more than the model's {max_positions}")
        length = -(-tokens // MIN_LENGTH_BUCKET) * MIN_LENGTH_BUCKET
    return length


# ---------------------------------------------------------------------------------------------- sampling


@dataclass(frozen=True)
class Sampling:
    """How each next token is chosen (what transformers' processors would do for the same config).

    Order as in transformers: repetition penalty and EOS suppression on the raw logits, then temperature,
    top-k, top-p (on the top-k survivors), then a draw; greedy takes the argmax after the first two.
    """

    greedy: bool
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    suppress_eos: bool = False

    @property
    def mode(self) -> tuple[bool, int, bool, bool, bool]:
        """What the captured code depends on (one CUDA graph per mode); the rest are device tensors."""
        return (self.greedy, 0 if self.greedy else self.top_k, (not self.greedy) and self.top_p < 1.0,
                self.repetition_penalty != 1.0, self.suppress_eos)


# Generation-config fields the fast path does not implement, with the values that make them no-ops.
_NEUTRAL: dict[str, tuple[Any, ...]] = {
    "num_beams": (None, 1),
    "num_beam_groups": (None, 1),
    "penalty_alpha": (None, 0, 0.0),
    "typical_p": (None, 1, 1.0),
    "min_p": (None, 0, 0.0),
    "epsilon_cutoff": (None, 0, 0.0),
    "eta_cutoff": (None, 0, 0.0),
    "no_repeat_ngram_size": (None, 0),
    "encoder_no_repeat_ngram_size": (None, 0),
    "bad_words_ids": (None,),
    "force_words_ids": (None,),
    "constraints": (None,),
    "sequence_bias": (None,),
    "suppress_tokens": (None, ()),
    "begin_suppress_tokens": (None, ()),
    "forced_bos_token_id": (None,),
    "forced_eos_token_id": (None,),
    "exponential_decay_length_penalty": (None,),
    "encoder_repetition_penalty": (None, 1, 1.0),
    "guidance_scale": (None, 1, 1.0),
    "watermarking_config": (None,),
    "dola_layers": (None,),
    "diversity_penalty": (None, 0, 0.0),
    "max_time": (None,),
    "assistant_early_exit": (None,),
}


def _neutral(value: Any, allowed: tuple[Any, ...]) -> bool:
    if isinstance(value, list):
        value = tuple(value)
    return any(value == a if a is not None else value is None for a in allowed)


def sampling_from_generation_config(config: Any, *, max_new_tokens: int, prompt_tokens: int) -> Sampling:
    """The Sampling that transformers would apply for this (merged) GenerationConfig.

    Raises FastDecodeUnsupported for any logits processor the fast path does not implement.
    """
    for name, allowed in _NEUTRAL.items():
        value = getattr(config, name, None)
        if not _neutral(value, allowed):
            raise FastDecodeUnsupported(f"generation config sets {name}={value!r}")
    min_new = getattr(config, "min_new_tokens", None) or 0
    min_length = getattr(config, "min_length", None) or 0
    suppress = False
    if min_new:
        if min_new < max_new_tokens:
            raise FastDecodeUnsupported(f"min_new_tokens={min_new} below max_new_tokens")
        suppress = True
    if min_length > prompt_tokens:
        if min_length - prompt_tokens < max_new_tokens:
            raise FastDecodeUnsupported(f"min_length={min_length}")
        suppress = True
    penalty = float(getattr(config, "repetition_penalty", None) or 1.0)
    if not getattr(config, "do_sample", False):
        return Sampling(greedy=True, repetition_penalty=penalty, suppress_eos=suppress)
    temperature = getattr(config, "temperature", None)
    temperature = 1.0 if temperature is None else float(temperature)
    if temperature <= 0:
        raise FastDecodeUnsupported(f"temperature={temperature} with sampling")
    top_k = int(getattr(config, "top_k", None) or 0)
    top_p = getattr(config, "top_p", None)
    top_p = 1.0 if top_p is None else float(top_p)
    return Sampling(greedy=False, temperature=temperature, top_k=top_k, top_p=top_p,
                    repetition_penalty=penalty, suppress_eos=suppress)


# ---------------------------------------------------------------------------------------------- model


@dataclass
class _Layer:
    """One decoder layer's pieces, read from the model's modules."""

    ln1: torch.Tensor
    ln1_eps: float
    ln2: torch.Tensor
    ln2_eps: float
    qkv: Any | None  # fused nn.Linear-like callable, or None (then q, k, v)
    q: Any
    k: Any
    v: Any
    o: Any
    gate_up: Any | None
    gate: Any
    up: Any
    down: Any
    act: Any
    scaling: float
    silu: bool = False  # act is SiLU: the gate is silu(g) * u, fusable
    plain: bool = False  # fused q,k,v and gate,up; bias-free o, down; SiLU: the compiled pieces apply


class _Fused:
    """A linear map over the concatenated weights of several nn.Linear modules (views keep one copy)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        self.weight, self.bias = weight, bias

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


def _fuse(linears: Sequence[Any]) -> _Fused | None:
    """Concatenate plain nn.Linear weights and point each module's weight at its slice (no extra memory)."""
    if not all(type(m) is torch.nn.Linear for m in linears):
        return None
    ws = [m.weight for m in linears]
    if len({(w.dtype, w.device, w.shape[1]) for w in ws}) != 1:
        return None
    has_bias = [m.bias is not None for m in linears]
    if any(has_bias) and not all(has_bias):
        return None
    with torch.no_grad():
        weight = torch.cat([w.detach() for w in ws], dim=0)
        bias = torch.cat([m.bias.detach() for m in linears], dim=0) if all(has_bias) else None
        start = 0
        for m in linears:
            n = m.weight.shape[0]
            m.weight = torch.nn.Parameter(weight[start:start + n], requires_grad=False)
            if bias is not None:
                m.bias = torch.nn.Parameter(bias[start:start + n], requires_grad=False)
            start += n
    return _Fused(weight, bias)


def _rms_weight(norm: Any, what: str) -> tuple[torch.Tensor, float]:
    weight = getattr(norm, "weight", None)
    eps = getattr(norm, "variance_epsilon", getattr(norm, "eps", None))
    if not isinstance(weight, torch.Tensor) or eps is None or type(norm).__name__.find("RMSNorm") < 0:
        raise FastDecodeUnsupported(f"{what} is {type(norm).__name__}, not an RMSNorm with a weight")
    return weight, float(eps)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    return (x * cos) + (_rotate_half(x) * sin)


def _pre_attention(x: torch.Tensor, ln: torch.Tensor, wqkv: torch.Tensor, bqkv: torch.Tensor | None,
                   cos: torch.Tensor, sin: torch.Tensor, eps: float, heads: int, kv_heads: int,
                   head_dim: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Norm, fused q/k/v projection and rope of one layer (what decode="compile" hands to torch.compile)."""
    rows, q, hidden = x.shape
    h = F.rms_norm(x, (hidden,), ln, eps)
    qkv = F.linear(h, wqkv, bqkv).view(rows, q, heads + 2 * kv_heads, head_dim).transpose(1, 2)
    qk = _rope(qkv[:, : heads + kv_heads], cos, sin)
    return qk[:, :heads], qk[:, heads:], qkv[:, heads + kv_heads:]


def _post_attention(x: torch.Tensor, attn: torch.Tensor, wo: torch.Tensor, ln: torch.Tensor, wgu: torch.Tensor,
                    wd: torch.Tensor, eps: float) -> torch.Tensor:
    """Output projection, residual, norm, SiLU MLP and residual of one layer (compiled with decode="compile")."""
    x = x + F.linear(attn, wo)
    h = F.rms_norm(x, (x.shape[-1],), ln, eps)
    g, u = F.linear(h, wgu).chunk(2, dim=-1)
    return x + F.linear(F.silu(g) * u, wd)


def _rope_pair(q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor,
               sin: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rope of queries and keys (compiled as one piece when the layers are quantized or adapted)."""
    return _rope(q, cos, sin), _rope(k, cos, sin)


def _add_rms_norm(x: torch.Tensor, delta: torch.Tensor, ln: torch.Tensor,
                  eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Residual add and the next RMSNorm in one piece."""
    x = x + delta
    return x, F.rms_norm(x, (x.shape[-1],), ln, eps)


def _silu_mul(g: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    return F.silu(g) * u


# ---------------------------------------------------------------------------------------------- slots


class _Slot:
    """The static state of one (batch, length) bucket: KV cache, step buffers and captured graphs."""

    def __init__(self, dec: FastDecoder, batch: int, length: int) -> None:
        dev, dt = dec.device, dec.dtype
        self.batch, self.length = batch, length
        shape = (batch, dec.kv_heads, length, dec.head_dim)
        self.kv = [(torch.zeros(shape, dtype=dt, device=dev), torch.zeros(shape, dtype=dt, device=dev))
                   for _ in dec.layers]
        self.tok = torch.zeros(batch, 1, dtype=torch.long, device=dev)  # the next step's input
        self.pos = torch.zeros(1, dtype=torch.long, device=dev)  # its position
        self.out = torch.zeros(batch, 1, dtype=torch.long, device=dev)  # the step's sampled token
        self.temperature = torch.ones(batch, 1, dtype=torch.float32, device=dev)
        self.top_p = torch.ones(batch, 1, dtype=torch.float32, device=dev)
        self.penalty = torch.ones((), dtype=torch.float32, device=dev)
        self.seen: torch.Tensor | None = None  # (batch, vocab) bool, for the repetition penalty
        self.spec_tok: dict[int, torch.Tensor] = {}  # q -> (batch, q) inputs of a prompt-lookup check
        self.spec_out: dict[int, torch.Tensor] = {}
        self.arange = torch.arange(length, device=dev)
        self.graphs: dict[tuple[Any, ...], Any] = {}
        self.pinned: list[torch.Tensor] = []
        self.events: list[Any] = []
        if dev.type == "cuda":
            self.pinned = [torch.empty(batch, dtype=torch.long, pin_memory=True) for _ in range(PIPELINE_DEPTH + 2)]
            self.events = [torch.cuda.Event() for _ in range(PIPELINE_DEPTH + 2)]

    @property
    def nbytes(self) -> int:
        return sum(k.numel() * k.element_size() * 2 for k, _ in self.kv)

    def ensure_seen(self, vocab: int) -> torch.Tensor:
        if self.seen is None:
            self.seen = torch.zeros(self.batch, vocab, dtype=torch.bool, device=self.tok.device)
        return self.seen

    def ensure_spec(self, q: int) -> tuple[torch.Tensor, torch.Tensor]:
        if q not in self.spec_tok:
            self.spec_tok[q] = torch.zeros(self.batch, q, dtype=torch.long, device=self.tok.device)
            self.spec_out[q] = torch.zeros(self.batch, q, dtype=torch.long, device=self.tok.device)
        return self.spec_tok[q], self.spec_out[q]


@dataclass
class FastOutput:
    """What one FastDecoder.generate call produced and how."""

    tokens: list[list[int]]  # per row: the generated ids, up to and including EOS or the stop
    finish: list[str]  # per row: "eos", "stop" (the on_token callback ended it) or "length"
    time_to_first_token_s: float
    steps: int = 0  # device steps after the prefill (prompt-lookup checks count once)
    lookup_steps: int = 0
    lookup_accepted: int = 0  # draft tokens kept, over all lookup steps (per row, rows move together)
    captures: list[dict[str, Any]] = field(default_factory=list)  # graphs captured during this call
    slot: tuple[int, int] = (0, 0)
    graphs: bool = False
    compiled: bool = False


class FastDecoder:
    """A decode loop for one loaded model (see the module docstring). Not thread-safe: callers lock."""

    def __init__(self, model: Any, *, eos_ids: Sequence[int], use_graphs: bool | None = None,
                 compile_layers: bool = False, max_slots: int = 4) -> None:
        self.model = model
        cfg = model.config
        if getattr(cfg, "is_encoder_decoder", False):
            raise FastDecodeUnsupported("encoder-decoder model")
        if cfg.model_type not in SUPPORTED_MODEL_TYPES:
            raise FastDecodeUnsupported(f"model type {cfg.model_type!r} (fast path: {sorted(SUPPORTED_MODEL_TYPES)})")
        text = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
        self.mrope = cfg.model_type == "qwen2_5_vl"
        attn = getattr(text, "_attn_implementation", None) or "sdpa"
        if attn not in ("sdpa", "eager"):
            raise FastDecodeUnsupported(f"attention implementation {attn!r}")
        types = set(getattr(text, "layer_types", None) or ["full_attention"])
        if types != {"full_attention"} or getattr(text, "use_sliding_window", False):
            raise FastDecodeUnsupported(f"layer types {sorted(types)} / sliding window")
        decoder = model.get_decoder()
        self.lm_head = model.get_output_embeddings()
        if self.lm_head is None or not hasattr(decoder, "layers") or not hasattr(decoder, "embed_tokens"):
            raise FastDecodeUnsupported("no decoder layers, embedding or LM head found")
        if getattr(text, "final_logit_softcapping", None):
            raise FastDecodeUnsupported("final logit soft-capping")
        self.rotary = decoder.rotary_emb
        rope_type = getattr(self.rotary, "rope_type", "default")
        if rope_type not in ("default", "linear", "llama3", "yarn"):
            raise FastDecodeUnsupported(f"rope type {rope_type!r} (data-dependent)")
        self.embed = decoder.embed_tokens
        self.final_norm, self.final_eps = _rms_weight(decoder.norm, "the final norm")
        self.heads = int(text.num_attention_heads)
        self.kv_heads = int(getattr(text, "num_key_value_heads", None) or self.heads)
        self.hidden = int(text.hidden_size)
        self.head_dim = int(getattr(text, "head_dim", None) or self.hidden // self.heads)
        self.groups = self.heads // self.kv_heads
        self.vocab = int(self.lm_head.weight.shape[0]) if hasattr(self.lm_head, "weight") else int(text.vocab_size)
        self.max_positions = getattr(text, "max_position_embeddings", None)
        self.device = self.embed.weight.device
        self.dtype = self.embed.weight.dtype
        self.layers = [self._read_layer(i, layer) for i, layer in enumerate(decoder.layers)]
        self.eos = torch.tensor(sorted(set(int(e) for e in eos_ids)), dtype=torch.long, device=self.device)
        self.eos_set = {int(e) for e in eos_ids}
        cuda = self.device.type == "cuda"
        self.use_graphs = cuda if use_graphs is None else (use_graphs and cuda)
        self.max_slots = max_slots
        self._slots: OrderedDict[tuple[int, int], _Slot] = OrderedDict()
        self.capture_log: list[dict[str, Any]] = []
        self.graph_error: str | None = None  # why graphs were turned off, if they were
        self.compile_error: str | None = None  # why compiled layers were turned off, if they were
        self._pre: Any = None
        self._post: Any = None
        self._pieces: dict[str, Any] | None = None
        if compile_layers and self.use_graphs:
            # One compiled graph per shape, shared by every layer (weights are arguments); our CUDA graph
            # captures the generated kernels, so no "reduce-overhead" mode here.
            if all(layer.plain for layer in self.layers):
                self._pre = torch.compile(_pre_attention, dynamic=False, fullgraph=True)
                self._post = torch.compile(_post_attention, dynamic=False, fullgraph=True)
            else:
                # Quantized or adapted linears stay calls of their own modules; only the element-wise work
                # between them (rope, residual + norm, SiLU gate) is fused.
                self._pieces = {name: torch.compile(fn, dynamic=False, fullgraph=True)
                                for name, fn in (("rope", _rope_pair), ("add_norm", _add_rms_norm),
                                                 ("silu_mul", _silu_mul))}
                log.info("decode=compile: the layers' linears are not plain bf16/fp32 (LoRA or quantized); "
                         "fusing the element-wise work between them")

    @property
    def compiled(self) -> bool:
        return self._pre is not None or self._pieces is not None

    def _read_layer(self, i: int, layer: Any) -> _Layer:
        attn, mlp = getattr(layer, "self_attn", None), getattr(layer, "mlp", None)
        names = ("q_proj", "k_proj", "v_proj", "o_proj")
        if attn is None or mlp is None or not all(hasattr(attn, n) for n in names):
            raise FastDecodeUnsupported(f"layer {i} has no self_attn.q/k/v/o_proj or mlp")
        if not all(hasattr(mlp, n) for n in ("gate_proj", "up_proj", "down_proj", "act_fn")):
            raise FastDecodeUnsupported(f"layer {i}'s MLP is not gate/up/down")
        ln1, eps1 = _rms_weight(layer.input_layernorm, f"layer {i}'s input norm")
        ln2, eps2 = _rms_weight(layer.post_attention_layernorm, f"layer {i}'s post-attention norm")
        scaling = getattr(attn, "scaling", None)
        head_dim = getattr(attn, "head_dim", None)
        if scaling is None or (head_dim is not None and int(head_dim) != self.head_dim):
            raise FastDecodeUnsupported(f"layer {i}'s attention has no scaling or another head size")
        for extra in ("q_norm", "k_norm"):
            if getattr(attn, extra, None) is not None:
                raise FastDecodeUnsupported(f"layer {i} has {extra}")
        qkv = _fuse([attn.q_proj, attn.k_proj, attn.v_proj])
        gate_up = _fuse([mlp.gate_proj, mlp.up_proj])
        silu = type(mlp.act_fn).__name__ in ("SiLU", "SiLUActivation")  # both are F.silu
        plain = (qkv is not None and gate_up is not None and gate_up.bias is None
                 and all(type(m) is torch.nn.Linear and m.bias is None for m in (attn.o_proj, mlp.down_proj))
                 and silu)
        return _Layer(
            ln1=ln1, ln1_eps=eps1, ln2=ln2, ln2_eps=eps2, qkv=qkv,
            q=attn.q_proj, k=attn.k_proj, v=attn.v_proj, o=attn.o_proj, gate_up=gate_up,
            gate=mlp.gate_proj, up=mlp.up_proj, down=mlp.down_proj, act=mlp.act_fn, scaling=float(scaling),
            silu=silu, plain=plain,
        )

    # ------------------------------------------------------------------ the model, by hand

    def _cos_sin(self, x: torch.Tensor, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        q = positions.shape[0]
        pid = positions.view(1, 1, q).expand(3, 1, q) if self.mrope else positions.view(1, q)
        cos, sin = self.rotary(x, pid)
        if cos.dim() == 4:  # (3, batch, q, dim): older mrope layouts; text positions are equal in all three
            cos, sin = cos[0], sin[0]
        return cos.unsqueeze(1), sin.unsqueeze(1)  # (1, 1, q, dim)

    def _forward(self, kv: Sequence[tuple[torch.Tensor, torch.Tensor]], tokens: torch.Tensor,
                 positions: torch.Tensor, *, prefill: bool, all_logits: bool = False) -> torch.Tensor:
        """Logits (float32) for `tokens` (rows, q) at `positions` (q,), writing their keys and values into kv.

        prefill: the tokens start at position 0 and the rows' caches hold nothing else (causal attention over
        the first q keys); otherwise attention covers every cached position up to each query's own.
        """
        rows, q = tokens.shape
        H, Hkv, D, G = self.heads, self.kv_heads, self.head_dim, self.groups
        x = self.embed(tokens)
        cos, sin = self._cos_sin(x, positions)
        mask = None
        if not prefill:
            length = kv[0][0].shape[2]
            arange = torch.arange(length, device=tokens.device)
            blocked = arange.view(1, length) > positions.view(q, 1)
            mask = torch.zeros(q, length, dtype=x.dtype, device=x.device).masked_fill(blocked, float("-inf"))
            mask = mask.repeat(G, 1).view(1, 1, G * q, length)  # query rows are (group, position)
        compiled = self._pre is not None and not prefill
        # the element-wise pieces between linears: compiled for quantized or adapted layers, else the same
        # functions run eagerly
        pieces = self._pieces if self._pieces is not None and not prefill else \
            {"rope": _rope_pair, "add_norm": _add_rms_norm, "silu_mul": _silu_mul}
        for layer, (kc, vc) in zip(self.layers, kv, strict=True):
            if compiled:
                qs, ks, vs = self._pre(x, layer.ln1, layer.qkv.weight, layer.qkv.bias, cos, sin, layer.ln1_eps,
                                       H, Hkv, D)
            else:
                h = F.rms_norm(x, (self.hidden,), layer.ln1, layer.ln1_eps)
                if layer.qkv is not None:
                    qkv = layer.qkv(h).view(rows, q, H + 2 * Hkv, D).transpose(1, 2)
                    qk = _rope(qkv[:, : H + Hkv], cos, sin)
                    qs, ks, vs = qk[:, :H], qk[:, H:], qkv[:, H + Hkv:]
                else:
                    qs, ks = pieces["rope"](layer.q(h).view(rows, q, H, D).transpose(1, 2),
                                            layer.k(h).view(rows, q, Hkv, D).transpose(1, 2), cos, sin)
                    vs = layer.v(h).view(rows, q, Hkv, D).transpose(1, 2)
            kc.index_copy_(2, positions, ks)
            vc.index_copy_(2, positions, vs)
            if prefill:
                out = F.scaled_dot_product_attention(qs, kc[:, :, :q], vc[:, :, :q], is_causal=True,
                                                     scale=layer.scaling, enable_gqa=G > 1)
                out = out.transpose(1, 2).reshape(rows, q, H * D)
            else:
                qg = qs.reshape(rows, Hkv, G * q, D)
                out = F.scaled_dot_product_attention(qg, kc, vc, attn_mask=mask, scale=layer.scaling)
                out = out.reshape(rows, H, q, D).transpose(1, 2).reshape(rows, q, H * D)
            if compiled:
                x = self._post(x, out, layer.o.weight, layer.ln2, layer.gate_up.weight, layer.down.weight,
                               layer.ln2_eps)
                continue
            x, h = pieces["add_norm"](x, layer.o(out), layer.ln2, layer.ln2_eps)
            if layer.gate_up is not None:
                g, u = layer.gate_up(h).chunk(2, dim=-1)
            else:
                g, u = layer.gate(h), layer.up(h)
            x = x + layer.down(pieces["silu_mul"](g, u) if layer.silu else layer.act(g) * u)
        if not all_logits:
            x = x[:, -1:]
        x = F.rms_norm(x, (self.hidden,), self.final_norm, self.final_eps)
        logits = self.lm_head(x).float()
        return logits if all_logits else logits[:, -1]

    def _sample(self, logits: torch.Tensor, slot: _Slot, mode: tuple[bool, int, bool, bool, bool],
                seen: torch.Tensor | None, repeat: int = 1) -> torch.Tensor:
        """Next token ids (rows,) from float logits (rows, vocab); every step is graph-safe (no host sync)."""
        greedy, top_k, use_top_p, penalty, suppress = mode
        if penalty:
            assert seen is not None
            p = slot.penalty
            logits = torch.where(seen, torch.where(logits < 0, logits * p, logits / p), logits)
        if suppress:
            logits = logits.index_fill(-1, self.eos, float("-inf"))
        if greedy:
            return logits.argmax(dim=-1)
        temperature, top_p = slot.temperature, slot.top_p
        if repeat > 1:
            temperature, top_p = temperature.repeat_interleave(repeat, 0), top_p.repeat_interleave(repeat, 0)
        logits = logits / temperature
        index = None
        if top_k:
            logits, index = logits.topk(min(top_k, logits.shape[-1]), dim=-1)
        elif use_top_p:
            logits, index = logits.sort(dim=-1, descending=True)
        if use_top_p:
            probs = logits.softmax(dim=-1)
            before = probs.cumsum(dim=-1) - probs  # mass of the tokens ranked above
            logits = logits.masked_fill(before >= top_p, float("-inf"))
        probs = logits.softmax(dim=-1)
        choice = (probs / torch.empty_like(probs).exponential_()).argmax(dim=-1)
        return choice if index is None else index.gather(-1, choice.unsqueeze(-1)).squeeze(-1)

    # ------------------------------------------------------------------ steps (what the graphs hold)

    def _step(self, slot: _Slot, mode: tuple[bool, int, bool, bool, bool]) -> None:
        logits = self._forward(slot.kv, slot.tok, slot.pos, prefill=False)
        nxt = self._sample(logits, slot, mode, slot.seen).view(-1, 1)
        slot.out.copy_(nxt)
        slot.tok.copy_(nxt)
        slot.pos.add_(1)
        if mode[3]:
            assert slot.seen is not None
            slot.seen.scatter_(1, nxt, True)

    def _check(self, slot: _Slot, mode: tuple[bool, int, bool, bool, bool], q: int) -> None:
        """One prompt-lookup check: logits at q positions (last token + q-1 drafts), one sample each."""
        spec_tok, spec_out = slot.ensure_spec(q)
        positions = slot.pos + slot.arange[:q]
        logits = self._forward(slot.kv, spec_tok, positions, prefill=False, all_logits=True)  # (B, q, V)
        rows = logits.shape[0]
        seen = None
        if mode[3]:
            assert slot.seen is not None
            seen = slot.seen.unsqueeze(1).repeat(1, q, 1)
            for j in range(1, q):  # draft j counts as seen from position j on
                seen[:, j:].scatter_(2, spec_tok[:, j].view(rows, 1, 1).expand(rows, q - j, 1), True)
            seen = seen.view(rows * q, -1)
        nxt = self._sample(logits.view(rows * q, -1), slot, mode, seen, repeat=q)
        spec_out.copy_(nxt.view(rows, q))

    def _run(self, slot: _Slot, key: tuple[Any, ...], body: Callable[[], None]) -> None:
        graph = slot.graphs.get(key)
        if graph is not None:
            graph.replay()
        else:
            body()

    def _capture(self, slot: _Slot, key: tuple[Any, ...], body: Callable[[], None]) -> dict[str, Any] | None:
        """Capture body() in a CUDA graph for this slot (once). Its side effects during warm-up are undone."""
        if not self.use_graphs or key in slot.graphs:
            return None
        t0 = time.perf_counter()
        saved = [slot.tok.clone(), slot.pos.clone(), slot.out.clone()]
        saved_seen = None if slot.seen is None else slot.seen.clone()
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            try:
                body()  # warm up kernels and library handles outside the capture (and compile, if asked)
            except Exception as exc:  # noqa: BLE001 - torch.compile raises many kinds; plain layers still work
                if self._pre is None and self._pieces is None:
                    raise
                self._pre = self._post = self._pieces = None
                self.compile_error = f"{type(exc).__name__}: {str(exc)[:500]}"
                log.warning("decode=compile: compiling the layers failed (%s); CUDA graphs only", self.compile_error)
                body()
            body()
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            body()
        torch.cuda.synchronize()
        slot.tok.copy_(saved[0])
        slot.pos.copy_(saved[1])
        slot.out.copy_(saved[2])
        if saved_seen is not None and slot.seen is not None:
            slot.seen.copy_(saved_seen)
        slot.graphs[key] = graph
        info = {"slot": [slot.batch, slot.length], "key": [str(k) for k in key],
                "seconds": round(time.perf_counter() - t0, 3)}
        self.capture_log.append(info)
        log.info("captured decode graph %s for batch %d, length %d in %.2f s", key[0], slot.batch, slot.length,
                 info["seconds"])
        return info

    # ------------------------------------------------------------------ slots

    def slot(self, rows: int, tokens: int) -> _Slot:
        """The slot for `rows` rows and `tokens` positions (created, or reused least-recently-used first)."""
        key = (batch_bucket(rows), length_bucket(tokens, self.max_positions))
        found = self._slots.get(key)
        if found is not None:
            self._slots.move_to_end(key)
            return found
        while len(self._slots) >= self.max_slots:
            old_key, _ = self._slots.popitem(last=False)
            log.info("dropping decode slot %s (keeps at most %d)", old_key, self.max_slots)
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        slot = _Slot(self, *key)
        self._slots[key] = slot
        return slot

    def prepare(self, rows: int, tokens: int, sampling: Sampling, prompt_lookup: int = 0) -> list[dict[str, Any]]:
        """Capture now what a request of `rows` rows, `tokens` positions and this sampling would capture on
        its first call (warm-up). Returns what was captured (empty when it already was, or without graphs)."""
        with torch.inference_mode():
            return self._prepare(self.slot(rows, tokens), sampling, prompt_lookup)

    def _prepare(self, slot: _Slot, sampling: Sampling, prompt_lookup: int) -> list[dict[str, Any]]:
        mode = sampling.mode
        if mode[3]:
            slot.ensure_seen(self.vocab)
        captured = []
        jobs: list[tuple[tuple[Any, ...], Callable[[], None]]] = [(("step", mode), lambda: self._step(slot, mode))]
        if prompt_lookup:
            q = prompt_lookup + 1
            slot.ensure_spec(q)
            jobs.append((("check", q, mode), lambda: self._check(slot, mode, q)))
        for key, body in jobs:
            try:
                info = self._capture(slot, key, body)
            except RuntimeError as exc:  # a kernel that cannot be captured (some quantized layers): run eagerly
                torch.cuda.synchronize()
                self.use_graphs = False
                self.graph_error = f"{type(exc).__name__}: {exc}"
                for s in self._slots.values():
                    s.graphs.clear()
                log.warning("CUDA graph capture failed (%s); this model decodes without graphs", exc)
                return captured
            if info:
                captured.append(info)
        return captured

    # ------------------------------------------------------------------ generation

    def generate(self, prompt: Sequence[int], *, rows: int, max_new_tokens: int, sampling: Sampling,
                 seed: int | None = None, on_token: Callable[[list[int]], Iterable[int] | None] | None = None,
                 prompt_lookup: int = 0) -> FastOutput:
        """Decode `rows` continuations of `prompt` (token ids).

        on_token(column) gets each step's token of every row (a list of `rows` ids, rows already finished
        included) in order, and may return rows that a stop string has ended. Rows end at EOS, at such a
        stop, or after max_new_tokens.
        """
        prompt = [int(t) for t in prompt]
        if not prompt:
            raise FastDecodeUnsupported("empty prompt")
        lookahead = prompt_lookup + 1 if prompt_lookup else 0
        with torch.inference_mode():
            slot = self.slot(rows, len(prompt) + max_new_tokens + lookahead)
            captures = self._prepare(slot, sampling, prompt_lookup)  # before seeding: capture draws numbers
            if seed is not None:
                torch.manual_seed(seed)
            t0 = time.perf_counter()
            first = self._prefill(slot, prompt, sampling)
            ttft = time.perf_counter() - t0
            out = FastOutput(tokens=[[] for _ in range(rows)], finish=["length"] * rows, time_to_first_token_s=ttft,
                             captures=captures, slot=(slot.batch, slot.length), graphs=self.use_graphs,
                             compiled=self.compiled)
            state = _RowState(rows, max_new_tokens, self.eos_set, on_token, out)
            state.push([first[:rows]])
            if not state.all_done:
                if prompt_lookup:
                    self._decode_lookup(slot, sampling, prompt, state, prompt_lookup)
                else:
                    self._decode(slot, sampling, state)
        return out

    def _prefill(self, slot: _Slot, prompt: list[int], sampling: Sampling) -> list[int]:
        """Prefill row 0 with the prompt, copy its cache to the other rows, draw each row's first token."""
        n = len(prompt)
        ids = torch.tensor([prompt], dtype=torch.long, device=self.device)
        positions = torch.arange(n, device=self.device)
        kv0 = [(k[:1], v[:1]) for k, v in slot.kv]
        logits = self._forward(kv0, ids, positions, prefill=True)  # (1, vocab)
        if slot.batch > 1:
            for k, v in slot.kv:
                k[1:, :, :n].copy_(k[:1, :, :n].expand(slot.batch - 1, -1, -1, -1))
                v[1:, :, :n].copy_(v[:1, :, :n].expand(slot.batch - 1, -1, -1, -1))
        mode = sampling.mode
        slot.temperature.fill_(sampling.temperature)
        slot.top_p.fill_(sampling.top_p)
        slot.penalty.fill_(sampling.repetition_penalty)
        seen = None
        if mode[3]:
            seen = slot.ensure_seen(self.vocab)
            seen.zero_()
            seen[:, ids[0]] = True
        first = self._sample(logits.expand(slot.batch, -1), slot, mode, seen)
        slot.tok.copy_(first.view(-1, 1))
        slot.pos.fill_(n)
        if seen is not None:
            seen.scatter_(1, first.view(-1, 1), True)
        return first.tolist()

    def _decode(self, slot: _Slot, sampling: Sampling, state: _RowState) -> None:
        """Plain steps; on CUDA the host reads tokens PIPELINE_DEPTH steps behind the device."""
        mode = sampling.mode
        key = ("step", mode)
        body = lambda: self._step(slot, mode)  # noqa: E731
        produced = 1
        if not slot.pinned:  # CPU: read every step
            while not state.all_done and produced < state.max_new:
                self._run(slot, key, body)
                produced += 1
                state.out.steps += 1
                state.push([slot.out.view(-1).tolist()[: state.rows]])
            return
        inflight: deque[tuple[Any, torch.Tensor]] = deque()
        ring = 0
        while not state.all_done:
            if produced < state.max_new:
                self._run(slot, key, body)
                produced += 1
                state.out.steps += 1
                buf, ev = slot.pinned[ring], slot.events[ring]
                ring = (ring + 1) % len(slot.pinned)
                buf.copy_(slot.out.view(-1), non_blocking=True)
                ev.record()
                inflight.append((ev, buf))
                if len(inflight) <= PIPELINE_DEPTH:
                    continue
            if not inflight:
                break
            ev, buf = inflight.popleft()
            ev.synchronize()
            state.push([buf.tolist()[: state.rows]])

    def _decode_lookup(self, slot: _Slot, sampling: Sampling, prompt: list[int], state: _RowState,
                       k: int) -> None:
        """Steps that check up to k draft tokens from prompt lookup (synchronous: drafts come from the host)."""
        mode = sampling.mode
        q = k + 1
        spec_tok, spec_out = slot.ensure_spec(q)
        step_key, check_key = ("step", mode), ("check", q, mode)
        step = lambda: self._step(slot, mode)  # noqa: E731
        check = lambda: self._check(slot, mode, q)  # noqa: E731
        lookups = [_Lookup(prompt, k) for _ in range(slot.batch)]
        for r in range(state.rows):
            lookups[r].extend(state.out.tokens[r][-1:])
        produced = 1
        while not state.all_done and produced < state.max_new:
            drafts = [lookups[r].draft() if r < state.rows and not state.done[r] else None
                      for r in range(slot.batch)]
            state.out.steps += 1
            if all(d is None for d in drafts):
                self._run(slot, step_key, step)
                col = slot.out.view(-1).tolist()
                produced += 1
                for r in range(state.rows):
                    lookups[r].extend(col[r:r + 1])
                state.push([col[: state.rows]])
                continue
            last = slot.tok.view(-1).tolist()
            inputs = []
            for r in range(slot.batch):
                d = (drafts[r] or [])[:k]
                inputs.append([last[r], *d, *([last[r]] * (k - len(d)))])
            spec_tok.copy_(torch.tensor(inputs, dtype=torch.long))
            self._run(slot, check_key, check)
            got = spec_out.tolist()
            accepted = []
            for r in range(state.rows):
                if state.done[r]:
                    continue
                d = drafts[r] or []
                a = 0
                while a < len(d) and got[r][a] == d[a]:
                    a += 1
                accepted.append(a)
            m = min(accepted) if accepted else 0
            m = min(m, state.max_new - produced - 1)
            state.out.lookup_steps += 1
            state.out.lookup_accepted += m
            slot.tok.copy_(spec_out[:, m:m + 1])
            slot.pos.add_(m + 1)
            if mode[3]:
                assert slot.seen is not None
                slot.seen.scatter_(1, spec_out[:, : m + 1], True)
            produced += m + 1
            for r in range(state.rows):
                lookups[r].extend(got[r][: m + 1])
            state.push([[got[r][j] for r in range(state.rows)] for j in range(m + 1)])


class _RowState:
    """Per-row bookkeeping on the host: tokens, EOS, stops from the callback, the token limit."""

    def __init__(self, rows: int, max_new: int, eos: set[int],
                 on_token: Callable[[list[int]], Iterable[int] | None] | None, out: FastOutput) -> None:
        self.rows, self.max_new, self.eos, self.on_token, self.out = rows, max_new, eos, on_token, out
        self.done = [False] * rows
        self.all_done = False

    def push(self, columns: list[list[int]]) -> None:
        for col in columns:
            if self.all_done:
                return
            for r, t in enumerate(col):
                if self.done[r]:
                    continue
                toks = self.out.tokens[r]
                toks.append(int(t))
                if t in self.eos:
                    self.done[r] = True
                    self.out.finish[r] = "eos"
                elif len(toks) >= self.max_new:
                    self.done[r] = True
            if self.on_token is not None:
                stopped = self.on_token(col)
                for r in stopped or ():
                    if not self.done[r] or self.out.finish[r] == "length":
                        self.done[r] = True
                        self.out.finish[r] = "stop"
            self.all_done = all(self.done)


class _Lookup:
    """Prompt-lookup drafts for one row: the continuation of an earlier occurrence of the last tokens.

    Keeps following the occurrence it last drafted from while the output keeps agreeing with it (a copy
    pointer, which is what a repair round's near-copy of the previous candidate needs); otherwise looks up the
    latest earlier occurrence of the last 3, 2 or 1 tokens.
    """

    def __init__(self, prompt: Sequence[int], k: int) -> None:
        self.k = k
        self.hist: list[int] = []
        self.index: dict[tuple[int, ...], int] = {}  # n-gram -> latest start with a continuation
        self.ptr: int | None = None  # where the copy continues in hist
        self.extend(prompt)
        self.ptr = None

    def extend(self, tokens: Iterable[int]) -> None:
        hist = self.hist
        for t in tokens:
            t = int(t)
            if self.ptr is not None:
                self.ptr = self.ptr + 1 if self.ptr < len(hist) and hist[self.ptr] == t else None
            hist.append(t)
            end = len(hist) - 1  # the n-grams that end just before this token now have a continuation
            for n in NGRAM_SIZES:
                if end - n >= 0:
                    self.index[tuple(hist[end - n:end])] = end - n

    def draft(self) -> list[int] | None:
        hist, n_hist = self.hist, len(self.hist)
        if self.ptr is not None and self.ptr < n_hist:
            return hist[self.ptr:self.ptr + self.k]
        for n in NGRAM_SIZES:
            if n_hist < n + 1:
                continue
            start = self.index.get(tuple(hist[n_hist - n:]))
            if start is not None and start + n < n_hist:
                self.ptr = start + n
                return hist[start + n:start + n + self.k]
        self.ptr = None
        return None
