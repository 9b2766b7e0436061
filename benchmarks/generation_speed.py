"""Generation speed of the hf backend on a GPU: the fast decode path against the memory-bandwidth bound.

Runs on a CUDA GPU (see scripts/gpu/run_device.sh). Nothing is downloaded: the model is built from the
published Qwen2.5-VL-7B-Instruct config.json (written out below by hand), initialised at random, saved to a
local folder with a 152k-entry word-level tokenizer and a ChatML template, and loaded through
`circuit_muse.models.get_model("hf:FOLDER", ...)`, the path users take. Generation uses the backend's
`stream()` with ``ignore_eos=True`` so that every sample decodes exactly ``--max-new-tokens``.

One run measures, for each precision (bf16, nf4 through bitsandbytes, int4 on torch's own kernel):
- the bound: each decode step reads every weight byte of the text model once (the embedding table
  excepted) plus the KV cache in use, so tokens/s <= n * BW / bytes_per_step, with BW the device-to-device
  copy rate measured at the start of this run (and, for reference, the datasheet rate);
- time to first token, decode tokens/s and its fraction of the bound, for 1 and 8 samples, after a warm-up;
- the first call of each shape (CUDA-graph capture included) against the steady calls: the warm-up cost;
- accuracy: logits of the quantized model against bf16 on fixed random-token prompts;
- a profile of one decode step: the CUDA graph's device time, the sum of its kernels' times (from the
  profiler, on the same step run without the graph), the gap between them, the weight-read floor;
- bf16 through transformers' generate (``decode=eager``), the old default, as the baseline.
Prompt-lookup decoding is measured on real repair traffic: round-2 requests that the loop sent the shipped
circuit-muse-nano model (recorded in benchmarks/results/generation_speed_repair_traffic.json), replayed
with and without lookup; the 7B's cost of a draft-checking step against a plain step gives its projection.

    python benchmarks/generation_speed.py --update-results                    # GPU, replaces the committed numbers
    python benchmarks/generation_speed.py --preset tiny --precisions fp32 --samples 1,2 --out /tmp/x   # CPU smoke
"""
from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _results import add_output_args, output_dir

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

log = logging.getLogger("generation_speed")

# Qwen/Qwen2.5-VL-7B-Instruct config.json as published (flat, pre-transformers-5 layout), written by hand.
QWEN25_VL_7B_CONFIG: dict[str, Any] = {
    "architectures": ["Qwen2_5_VLForConditionalGeneration"],
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
    "vision_start_token_id": 151652,
    "vision_end_token_id": 151653,
    "vision_token_id": 151654,
    "image_token_id": 151655,
    "video_token_id": 151656,
    "hidden_act": "silu",
    "hidden_size": 3584,
    "initializer_range": 0.02,
    "intermediate_size": 18944,
    "max_position_embeddings": 128000,
    "max_window_layers": 28,
    "model_type": "qwen2_5_vl",
    "num_attention_heads": 28,
    "num_hidden_layers": 28,
    "num_key_value_heads": 4,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "sliding_window": 32768,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.41.2",
    "use_cache": True,
    "use_sliding_window": False,
    "vision_config": {
        "depth": 32,
        "hidden_act": "silu",
        "hidden_size": 1280,
        "intermediate_size": 3420,
        "num_heads": 16,
        "in_chans": 3,
        "out_hidden_size": 3584,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "spatial_patch_size": 14,
        "window_size": 112,
        "fullatt_block_indexes": [7, 15, 23, 31],
        "tokens_per_second": 2,
        "temporal_patch_size": 2,
    },
    "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
    "vocab_size": 152064,
}

# The same layout, shrunk, for a CPU smoke run of this script.
TINY_CONFIG: dict[str, Any] = {
    **QWEN25_VL_7B_CONFIG,
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "max_window_layers": 2,
    "vision_config": {**QWEN25_VL_7B_CONFIG["vision_config"], "depth": 1, "hidden_size": 64,
                      "intermediate_size": 128, "num_heads": 2, "out_hidden_size": 128, "fullatt_block_indexes": [0]},
    "rope_scaling": {"type": "mrope", "mrope_section": [4, 6, 6]},
}

QWEN_SPECIALS = {
    151643: "<|endoftext|>", 151644: "<|im_start|>", 151645: "<|im_end|>", 151646: "<|object_ref_start|>",
    151647: "<|object_ref_end|>", 151648: "<|box_start|>", 151649: "<|box_end|>", 151650: "<|quad_start|>",
    151651: "<|quad_end|>", 151652: "<|vision_start|>", 151653: "<|vision_end|>", 151654: "<|vision_pad|>",
    151655: "<|image_pad|>", 151656: "<|video_pad|>",
}

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' "
    "+ '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

SYSTEM = "You are a hardware design assistant. Write synthesizable Verilog-2001 only."
USER = (
    "Write a parameterised synchronous FIFO in Verilog-2001 with a WIDTH parameter of 8 bits and a DEPTH parameter "
    "of 16 entries. Ports: input clk, input rst (active-high, synchronous), input wr_en, input [WIDTH-1:0] din, "
    "input rd_en, output reg [WIDTH-1:0] dout, output full, output empty, output [4:0] count. Writing when full "
    "and reading when empty must be ignored. Reading and writing in the same cycle must keep the count. Use a "
    "circular buffer with read and write pointers one bit wider than the address so that full and empty can be "
    "told apart. Register the output data. Do not use SystemVerilog constructs, initial blocks or delays. Name "
    "the module sync_fifo and put every port on its own line with a short comment that says what it does. After "
    "the module, write nothing else: no testbench and no explanation, only the code inside one verilog block."
)

DATASHEET_TBPS = [  # (substring of torch.cuda.get_device_name(), TB/s, label)
    ("H200", 4.8, "H200 (HBM3e, 4.8 TB/s)"),
    ("H100 NVL", 3.9, "H100 NVL (3.9 TB/s)"),
    ("H100 PCIe", 2.0, "H100 PCIe (2.0 TB/s)"),
    ("H100", 3.35, "H100 SXM (HBM3, 3.35 TB/s)"),
    ("A100-SXM4-80GB", 2.039, "A100 SXM 80GB (2.04 TB/s)"),
    ("A100", 1.555, "A100 40GB (1.56 TB/s)"),
]


def build_tokenizer(folder: Path, vocab_size: int) -> None:
    """A word-level tokenizer covering every id the model can emit, with Qwen's special tokens at their ids."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {QWEN_SPECIALS.get(i, f"w{i}"): i for i in range(vocab_size)}
    wl = Tokenizer(models.WordLevel(vocab, unk_token="w0"))
    wl.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=wl, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token="w0",
        additional_special_tokens=[v for k, v in sorted(QWEN_SPECIALS.items()) if k not in (151643, 151645)],
        clean_up_tokenization_spaces=False,
    )
    tok.save_pretrained(folder)
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    cfg = json.loads((folder / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2))
    (folder / "chat_template.json").write_text(json.dumps({"chat_template": CHATML}))  # as VL folders ship it


def build_random_model(folder: Path, config: dict[str, Any], device: str) -> dict[str, Any]:
    """Random weights from the config, saved as bf16 safetensors, the way a merged checkpoint looks."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText, GenerationConfig

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    cfg = AutoConfig.from_pretrained(folder, local_files_only=True)
    t0 = time.monotonic()
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForImageTextToText.from_config(cfg, dtype=torch.bfloat16)
    init_s = time.monotonic() - t0
    params = sum(p.numel() for p in model.parameters())
    model.generation_config = GenerationConfig(bos_token_id=151643, eos_token_id=[151645, 151643],
                                               pad_token_id=151643)
    t0 = time.monotonic()
    model.save_pretrained(folder, max_shard_size="5GB")
    save_s = time.monotonic() - t0
    del model
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    (folder / "config.json").write_text(json.dumps(config, indent=2))  # keep the published, flat layout
    build_tokenizer(folder, config["vocab_size"])
    return {"parameters": params, "init_s": round(init_s, 2), "save_s": round(save_s, 2)}


PRECISIONS: dict[str, dict[str, Any]] = {
    # the fast path (decode=graph, the hf backend's default on CUDA; nf4 is its default precision there)
    "bf16": {"quantization": "none", "dtype": "bfloat16", "decode": "graph"},
    "nf4": {"quantization": "nf4", "decode": "graph"},
    "int4": {"quantization": "int4", "decode": "graph"},
    "fp32": {"quantization": "none", "dtype": "float32", "decode": "graph"},
    # the fast path with the element-wise work fused by torch.compile (whole layers for plain bf16; between the
    # quantized linears for nf4 and int4)
    "bf16-compile": {"quantization": "none", "dtype": "bfloat16", "decode": "compile"},
    "nf4-compile": {"quantization": "nf4", "decode": "compile"},
    "int4-compile": {"quantization": "int4", "decode": "compile"},
    # transformers' generate (the default before the fast path, and still the CPU's): the baseline
    "bf16-eager": {"quantization": "none", "dtype": "bfloat16", "decode": "eager"},
}

TRAFFIC = Path(__file__).resolve().parent / "results" / "generation_speed_repair_traffic.json"
LOOKUP_TOKENS = 8  # draft tokens per check (the backend's default in repair rounds)


def decode_bytes(model: Any) -> dict[str, int]:
    """Bytes a decode step reads: the text model's weights and buffers (not the embedding table nor the rope
    table), the LM head, and bitsandbytes' quantization state."""
    import torch

    text = model.model.language_model if hasattr(model.model, "language_model") else model.model
    weights = 0
    seen: set[int] = set()
    for name, t in list(text.named_parameters()) + list(text.named_buffers()):
        if name.startswith("embed_tokens") or "inv_freq" in name or t is None or id(t) in seen:
            continue
        seen.add(id(t))
        weights += t.numel() * t.element_size()
    for p in model.lm_head.parameters():
        weights += p.numel() * p.element_size()
    quant_state = 0
    for module in list(text.modules()) + [model.lm_head]:
        qs = getattr(getattr(module, "weight", None), "quant_state", None)
        if qs is None:
            continue
        for t in (getattr(qs, "absmax", None), getattr(getattr(qs, "state2", None), "absmax", None),
                  getattr(getattr(qs, "state2", None), "code", None)):
            if isinstance(t, torch.Tensor):
                quant_state += t.numel() * t.element_size()
    cfg = model.config.get_text_config()
    head_dim = cfg.hidden_size // cfg.num_attention_heads
    kv_per_position = 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * head_dim * 2  # K and V, bf16
    return {"weights": weights + quant_state, "quant_state": quant_state, "kv_per_position": kv_per_position}


def copy_bandwidth_tbps(device: str) -> float | None:
    """Device-to-device copy rate (bytes read + written) over 2 GiB, best of 10."""
    import torch

    if not device.startswith("cuda"):
        return None
    n = 2 << 30
    a = torch.empty(n, dtype=torch.uint8, device=device)
    b = torch.empty_like(a)
    for _ in range(3):
        b.copy_(a)
    best = float("inf")
    for _ in range(10):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        b.copy_(a)
        end.record()
        end.synchronize()
        best = min(best, start.elapsed_time(end) / 1e3)
    del a, b
    torch.cuda.empty_cache()
    return 2 * n / best / 1e12


def datasheet(name: str) -> tuple[float | None, str]:
    for key, tbps, label in DATASHEET_TBPS:
        if key in name:
            return tbps, label
    return None, f"{name} (bandwidth unknown)"


def _tag(results: dict[str, Any], args: argparse.Namespace) -> str:
    tag = args.tag or results["device"].replace("NVIDIA ", "").split()[0].lower().replace("/", "_")
    return tag if args.preset == "qwen2.5-vl-7b" else f"{tag}_{args.preset}"


def save(results: dict[str, Any], args: argparse.Namespace) -> None:
    """Write the JSON and Markdown results (after every step, so that a time-out keeps what was measured)."""
    tag = _tag(results, args)
    (args.out / f"generation_speed_{tag}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / f"generation_speed_{tag}.md").write_text(markdown(results))


# ------------------------------------------------------------------ measurements


def fixed_prompts(vocab: int, count: int = 3, length: int = 96) -> list[list[int]]:
    """Random-token prompts (seeded): the word-level tokenizer maps English to one unknown id."""
    import random

    rng = random.Random(1234)
    return [[rng.randrange(0, 151600) % vocab for _ in range(length)] for _ in range(count)]


def prompt_logits(model: Any, prompts: list[list[int]]) -> list[Any]:
    """Logits (float32, CPU) at every position of each fixed prompt, through the model's own forward."""
    import torch

    out = []
    with torch.inference_mode():
        for ids in prompts:
            t = torch.tensor([ids], device=model.model.device)
            out.append(model.model(input_ids=t).logits[0].float().cpu())
    return out


def logit_difference(ref: list[Any], got: list[Any]) -> dict[str, float]:
    """How far the quantized logits are from bf16's: relative L2, max/mean abs, KL(bf16 || q), top-1 agreement."""
    import torch

    r, g = torch.cat(ref), torch.cat(got)
    kl = torch.nn.functional.kl_div(g.log_softmax(-1), r.log_softmax(-1), log_target=True, reduction="batchmean")
    return {
        "relative_l2": round(float((g - r).norm() / r.norm()), 5),
        "max_abs": round(float((g - r).abs().max()), 5),
        "mean_abs": round(float((g - r).abs().mean()), 6),
        "bf16_logit_std": round(float(r.std()), 5),
        "kl_bf16_to_quant": round(float(kl), 6),
        "top1_agreement": round(float((g.argmax(-1) == r.argmax(-1)).float().mean()), 4),
        "positions": int(r.shape[0]),
    }


def _graph_ms(graph: Any, slot: Any, reps: int = 50) -> float:
    """Device time of one replay, back to back (positions reset so the cache index stays in range)."""
    import torch

    slot.pos.fill_(16)
    for _ in range(3):
        graph.replay()
    slot.pos.fill_(16)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        graph.replay()
    end.record()
    end.synchronize()
    slot.pos.fill_(16)
    return start.elapsed_time(end) / reps


_MATMUL = ("gemv", "gemm", "sm90", "cutlass", "nvjet", "kgemm", "int4", "tinygemm", "Kernel2", "kdequant")


def profile_step(model: Any, request: Any, result: Any, weight_bytes: int, bw_tbps: float | None) -> dict[str, Any]:
    """Where a decode step's time goes: the graph's device time against the sum of its kernels' durations."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    fast = model._fast
    prompt_len = result.prompt_tokens
    _, rows, sampling, _ = model._fast_plan(request, prompt_len)
    slot = fast._slots[tuple(result.extra["slot"])]
    mode = sampling.mode
    graph = slot.graphs.get(("step", mode))
    out: dict[str, Any] = {"slot": list(result.extra["slot"]), "graph": graph is not None}
    with torch.inference_mode():
        if graph is not None:
            out["graph_ms_per_step"] = round(_graph_ms(graph, slot), 4)
        slot.pos.fill_(16)
        for _ in range(2):
            fast._step(slot, mode)
        torch.cuda.synchronize()
        steps = 5
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        slot.pos.fill_(16)
        start.record()
        for _ in range(steps):
            fast._step(slot, mode)
        end.record()
        end.synchronize()
        out["eager_launch_ms_per_step"] = round(start.elapsed_time(end) / steps, 4)
        slot.pos.fill_(16)
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(steps):
                fast._step(slot, mode)
            torch.cuda.synchronize()
        slot.pos.fill_(16)
    kernels: dict[str, list[float]] = {}
    for e in prof.events():
        if getattr(e, "device_type", None) != torch.autograd.DeviceType.CUDA:
            continue
        kernels.setdefault(e.name, []).append(e.time_range.elapsed_us())
    total_us = sum(sum(v) for v in kernels.values())
    count = sum(len(v) for v in kernels.values())
    matmul_us = sum(sum(v) for k, v in kernels.items() if any(m in k for m in _MATMUL))
    top = sorted(kernels.items(), key=lambda kv: -sum(kv[1]))[:8]
    out.update({
        "kernels_per_step": round(count / steps, 1),
        "kernel_ms_per_step": round(total_us / steps / 1000, 4),
        "matmul_kernel_ms_per_step": round(matmul_us / steps / 1000, 4),
        "top_kernels": [{"name": k[:90], "ms_per_step": round(sum(v) / steps / 1000, 4),
                         "per_step": round(len(v) / steps, 1)} for k, v in top],
    })
    if bw_tbps:
        out["weight_read_floor_ms"] = round(weight_bytes / (bw_tbps * 1e12) * 1000, 4)
    if "graph_ms_per_step" in out:
        out["gap_ms_per_step"] = round(out["graph_ms_per_step"] - out["kernel_ms_per_step"], 4)
    return out


def lookup_step_cost(model: Any, request: Any, result: Any, k: int = LOOKUP_TOKENS) -> dict[str, Any] | None:
    """Device time of a plain step and of a step that checks k drafts, on the same slot (graphs)."""
    import torch

    fast = model._fast
    _, rows, sampling, _ = model._fast_plan(request, result.prompt_tokens)
    slot = fast._slots[tuple(result.extra["slot"])]
    with torch.inference_mode():
        fast._prepare(slot, sampling, k)
        step = slot.graphs.get(("step", sampling.mode))
        check = slot.graphs.get(("check", k + 1, sampling.mode))
        if step is None or check is None:
            return None
        return {"rows": rows, "draft_tokens": k, "step_ms": round(_graph_ms(step, slot), 4),
                "check_ms": round(_graph_ms(check, slot), 4)}


def run_precision(precision: str, folder: Path, device: str, args: argparse.Namespace, results: dict[str, Any],
                  messages: list[Any], bw: dict[str, float | None], ref_logits: dict[str, Any]) -> None:
    import torch

    from circuit_muse.models import GenerationRequest, get_model

    options = dict(PRECISIONS[precision], ignore_eos=True, device=device)
    eager = options.get("decode") == "eager"
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.monotonic()
    model = get_model(f"hf:{folder}", **options).load()
    load_s = time.monotonic() - t0
    nbytes = decode_bytes(model.model)
    load = results["loads"][precision] = {
        "load_s": round(load_s, 2), "quantization": model.quantization, "dtype": model.dtype,
        "decode_weight_bytes": nbytes["weights"], "quant_state_bytes": nbytes["quant_state"],
        "memory_allocated_gb": round(torch.cuda.memory_allocated() / 1e9, 2) if device == "cuda" else None,
        "int4": model.int4_report,
    }
    log.info("%s: loaded in %.1f s, %.2f GB read per decode step", precision, load_s, nbytes["weights"] / 1e9)
    if not eager and args.logits:
        prompts = fixed_prompts(int(model.model.config.get_text_config().vocab_size))
        logits = prompt_logits(model, prompts)
        if precision == "bf16":
            ref_logits["bf16"] = logits
        elif "bf16" in ref_logits:
            load["logits_vs_bf16"] = logit_difference(ref_logits["bf16"], logits)
            log.info("%s logits vs bf16: %s", precision, load["logits_vs_bf16"])
        del logits
    tokens = args.eager_tokens if eager else args.max_new_tokens
    reps_n = args.eager_repeats if eager else args.repeats
    for n in (args.eager_samples if eager else args.samples):
        def request(seed: int, n: int = n) -> Any:
            return GenerationRequest(messages, n=n, max_new_tokens=tokens, temperature=1.0, seed=seed)

        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.monotonic()
        first = model.stream(request(99), lambda _c: None)  # the first call of this shape: captures its graph
        first_s = time.monotonic() - t0
        reps = []
        for rep in range(reps_n):
            chunks = [0]

            def on_chunk(_chunk: Any, chunks: list[int] = chunks) -> None:
                chunks[0] += 1

            if device == "cuda":
                torch.cuda.synchronize()
            res = model.stream(request(rep), on_chunk)
            count = sum(c.completion_tokens for c in res.completions)
            ttft = res.time_to_first_token_s or 0.0
            decode_s = res.duration_s - ttft
            reps.append({"ttft_s": ttft, "duration_s": res.duration_s, "tokens": count, "chunks": chunks[0],
                         "decode_tps": (count - n) / decode_s if decode_s > 0 else None,
                         "prompt_tokens": res.prompt_tokens})
        prompt_tokens = reps[0]["prompt_tokens"]
        avg_ctx = prompt_tokens + tokens / 2
        step_bytes = nbytes["weights"] + n * avg_ctx * nbytes["kv_per_position"]
        tps = statistics.median(r["decode_tps"] for r in reps)
        steady_s = statistics.median(r["duration_s"] for r in reps)
        row: dict[str, Any] = {
            "precision": precision,
            "decode": res.extra.get("decode"),
            "samples": n,
            "prompt_tokens": prompt_tokens,
            "tokens_per_sample": tokens,
            "ttft_s": round(statistics.median(r["ttft_s"] for r in reps), 4),
            "decode_tokens_per_s": round(tps, 2),
            "decode_tokens_per_s_per_sample": round(tps / n, 2),
            "decode_tokens_per_s_min_max": [round(min(r["decode_tps"] for r in reps), 2),
                                            round(max(r["decode_tps"] for r in reps), 2)],
            "step_ms": round(1000 * n / tps, 3),
            "bytes_per_step": int(step_bytes),
            "first_call_s": round(first_s, 3),
            "steady_call_s": round(steady_s, 3),
            "first_call_overhead_s": round(first_s - steady_s, 3),
            "captured": first.extra.get("captured", []),
            "slot": first.extra.get("slot"),
            "reps": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in reps],
            "peak_memory_gb": round(torch.cuda.max_memory_allocated() / 1e9, 2) if device == "cuda" else None,
        }
        for key, tbps in bw.items():
            if tbps:
                bound = n * tbps * 1e12 / step_bytes
                row[f"bound_tokens_per_s_{key}"] = round(bound, 1)
                row[f"fraction_of_bound_{key}"] = round(tps / bound, 4)
        results["runs"].append(row)
        save(results, args)
        log.info("%s n=%d (%s): TTFT %.3f s, %.1f tokens/s (%.1f per sample), %.1f%% of the measured-copy bound; "
                 "first call %.2f s vs %.2f s steady", precision, n, row["decode"], row["ttft_s"], tps, tps / n,
                 100 * row.get("fraction_of_bound_measured_copy", 0), first_s, steady_s)
        if device == "cuda" and row["decode"] in ("graph", "compile"):
            measures: list[tuple[str, Any, tuple[Any, ...]]] = []
            if args.profile:
                measures.append(("profile", profile_step,
                                 (model, request(0), res, nbytes["weights"], bw.get("measured_copy"))))
            if precision == "bf16" and args.lookup:
                measures.append(("lookup_cost", lookup_step_cost, (model, request(0), res)))
            for what, fn, fn_args in measures:
                try:
                    row[what] = fn(*fn_args)
                    log.info("%s n=%d %s: %s", precision, n, what, row[what])
                except Exception as exc:  # a measurement aid must not end the run
                    row[what] = {"error": f"{type(exc).__name__}: {exc}"}
                    log.exception("%s failed", what)
            save(results, args)
    fast = getattr(model, "_fast", None)
    if fast is not None:
        load["graph_error"] = fast.graph_error
        load["captures"] = fast.capture_log
    model.close()
    del model
    gc.collect()


def repair_conversations(limit: int) -> list[dict[str, Any]]:
    """The first `limit` real round-2 requests of the loop, each {"prompt", "messages": [Message, ...]}."""
    from circuit_muse.models import Message

    items = json.loads(TRAFFIC.read_text())["requests"][:limit]
    return [{"prompt": item["prompt"], "messages": [Message(m["role"], m["content"]) for m in item["messages"]]}
            for item in items]


def run_lookup(device: str, args: argparse.Namespace, results: dict[str, Any]) -> None:
    """Prompt lookup on real repair traffic with the shipped nano model: with and without drafts."""
    import torch

    from circuit_muse.models import GenerationRequest, get_model
    from circuit_muse.nano import model_spec

    traffic = repair_conversations(args.lookup_requests)
    decode = "graph" if device == "cuda" else "loop"
    nano = get_model(model_spec(), device=device, quantization="none", decode=decode).load()
    section: dict[str, Any] = {"model": "circuit-muse-nano (shipped, 5.2M parameters)", "dtype": nano.dtype,
                               "decode": decode, "draft_tokens": LOOKUP_TOKENS, "cases": []}
    results["lookup"] = section
    for i, item in enumerate(traffic):
        messages = item["messages"]
        cases = {"greedy": ("greedy", 1, 0.0), "t02": ("1 sample, T=0.2 (loop default)", 1, 0.2),
                 "n4": ("4 samples, T=0.8 (loop default)", 4, 0.8)}
        for label, n, temperature in (cases[c] for c in args.lookup_cases):
            case: dict[str, Any] = {"request": i, "prompt": item["prompt"], "case": label, "samples": n}
            texts = {}
            for lookup in (0, LOOKUP_TOKENS):
                nano.options.prompt_lookup = lookup
                req = GenerationRequest(messages, n=n, temperature=temperature, seed=11,
                                        max_new_tokens=args.lookup_max_new_tokens)
                runs = [nano.generate(req)]  # the first call captures its graphs: timed only with no repeats
                if args.lookup_repeats:
                    runs = []
                for _ in range(args.lookup_repeats):
                    if device == "cuda":
                        torch.cuda.synchronize()
                    res = nano.generate(req)
                    runs.append(res)
                mid = sorted(runs, key=lambda r: r.duration_s)[len(runs) // 2]
                toks = sum(c.completion_tokens for c in mid.completions)
                texts[lookup] = mid.texts
                case[f"lookup_{lookup}"] = {
                    "seconds": round(mid.duration_s, 4), "tokens": toks,
                    "tokens_per_s": round(toks / mid.duration_s, 1), "steps": mid.extra.get("steps"),
                    "lookup_steps": mid.extra.get("lookup_steps"), "lookup_accepted": mid.extra.get("lookup_accepted"),
                    "prompt_tokens": mid.prompt_tokens,
                    "longest_row_tokens": max(c.completion_tokens for c in mid.completions),
                    "seconds_all_runs": [round(r.duration_s, 4) for r in runs],
                }
                steps = case[f"lookup_{lookup}"]["steps"]
                # tokens of the longest row per device step after the prefill: what the loop's rounds wait for
                case[f"lookup_{lookup}"]["tokens_per_step"] = round(
                    (case[f"lookup_{lookup}"]["longest_row_tokens"] - 1) / steps, 3) if steps else None
            a, b = case["lookup_0"], case[f"lookup_{LOOKUP_TOKENS}"]
            case["speedup"] = round(a["seconds"] / b["seconds"], 3)
            case["same_text"] = texts[0] == texts[LOOKUP_TOKENS]
            section["cases"].append(case)
            save(results, args)
            log.info("lookup %s #%d: %.2fx (%s tokens, %s steps -> %s steps)", label, i, case["speedup"],
                     b["tokens"], a["steps"], b["steps"])
    nano.options.prompt_lookup = None
    nano.close()


def run_trained_accuracy(device: str, args: argparse.Namespace, results: dict[str, Any]) -> None:
    """The logit cost of nf4 and int4 on trained weights: the shipped nano model on real repair prompts.

    The random 7B's logits are nearly flat (std about 1), so any weight noise reorders them; a trained model
    says what quantization costs where the model is confident.
    """
    from circuit_muse.models import GenerationRequest, get_model
    from circuit_muse.nano import model_spec

    requests = [GenerationRequest(item["messages"]) for item in repair_conversations(args.lookup_requests)]
    section: dict[str, Any] = {"model": "circuit-muse-nano (shipped, 5.2M parameters)",
                               "prompts": len(requests), "reference": "bf16", "rows": {}}
    results["trained_accuracy"] = section
    ref: list[Any] | None = None
    for name, options in (("bf16", {"quantization": "none", "dtype": "bfloat16"}),
                          ("fp32", {"quantization": "none", "dtype": "float32"}),
                          ("nf4", {"quantization": "nf4"}), ("int4", {"quantization": "int4"})):
        try:
            model = get_model(model_spec(), device=device, **options).load()
            prompts = [model.prompt_ids(r)[0][0].tolist()[-1024:] for r in requests]
            logits = prompt_logits(model, prompts)
            model.close()
        except Exception as exc:  # one precision missing (no bitsandbytes, no int4 kernel) keeps the others
            if ref is None:
                raise
            section["rows"][name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        if ref is None:
            ref = logits
            continue
        section["rows"][name] = logit_difference(ref, logits)
        log.info("nano %s logits vs bf16: %s", name, section["rows"][name])
    save(results, args)


def project_lookup(results: dict[str, Any]) -> None:
    """The 7B's time with lookup from the nano traffic's step counts and the 7B's step and check costs."""
    section = results.get("lookup")
    costs = {r["samples"]: r.get("lookup_cost") for r in results["runs"]
             if r["precision"] == "bf16" and isinstance(r.get("lookup_cost"), dict) and "step_ms" in r["lookup_cost"]}
    if not section or not costs:
        return
    out = []
    for case in section["cases"]:
        n = case["samples"]
        cost = costs.get(n) or costs.get(min(costs, key=lambda s: abs(s - n)))
        with_l = case[f"lookup_{LOOKUP_TOKENS}"]
        # the lookup run's own output, once with its plain steps and checks, once with one plain step per token
        plain_steps = (with_l["steps"] or 0) - (with_l["lookup_steps"] or 0)
        t_with = plain_steps * cost["step_ms"] + (with_l["lookup_steps"] or 0) * cost["check_ms"]
        t_without = (with_l["longest_row_tokens"] - 1) * cost["step_ms"]
        out.append({"request": case["request"], "case": case["case"], "cost_rows": cost["rows"],
                    "projected_speedup": round(t_without / t_with, 3) if t_with else None})
    section["projected_7b"] = out


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    import transformers

    from circuit_muse.models import Message

    device = "cuda" if torch.cuda.is_available() else "cpu"
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or "cpu"
    spec_tbps, card = datasheet(gpu) if device == "cuda" else (None, "cpu")
    measured_tbps = copy_bandwidth_tbps(device)
    config = QWEN25_VL_7B_CONFIG if args.preset == "qwen2.5-vl-7b" else TINY_CONFIG
    folder = Path(args.model_dir)
    if folder.exists():
        shutil.rmtree(folder)
    try:
        import bitsandbytes as bnb  # noqa: F401

        bnb_version = bnb.__version__
    except ImportError:
        bnb_version = None
    results: dict[str, Any] = {
        "benchmark": "generation_speed",
        "command": " ".join(["python", "benchmarks/generation_speed.py", *sys.argv[1:]]),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "device": gpu,
        "card": card,
        "datasheet_tbps": spec_tbps,
        "measured_copy_tbps": None if measured_tbps is None else round(measured_tbps, 3),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "bitsandbytes": bnb_version,
                     "python": platform.python_version()},
        "preset": args.preset,
        "max_new_tokens": args.max_new_tokens,
        "repeats": args.repeats,
        "runs": [],
        "loads": {},
        "errors": [],
    }
    bw = {"datasheet": spec_tbps, "measured_copy": measured_tbps}
    if args.precisions:
        results["build"] = build_random_model(folder, config, device)
        log.info("built %s parameters in %.1f s, saved in %.1f s", f"{results['build']['parameters']:,}",
                 results["build"]["init_s"], results["build"]["save_s"])
    save(results, args)
    messages = [Message("system", SYSTEM), Message("user", USER)]
    ref_logits: dict[str, Any] = {}
    started = time.monotonic()
    # the slow baseline last, after the prompt-lookup replay: if time runs out, it is what is lost
    order = [p for p in args.precisions if p != "bf16-eager"] + (["lookup"] if args.lookup else [])
    order += ["trained-accuracy"] if args.logits and device == "cuda" else []  # nf4 needs CUDA
    order += [p for p in args.precisions if p == "bf16-eager"]
    for precision in order:
        if time.monotonic() - started > args.time_budget:
            results["errors"].append({"precision": precision, "error": f"skipped: past --time-budget {args.time_budget} s"})
            continue
        try:
            if precision == "lookup":
                run_lookup(device, args, results)
                project_lookup(results)
            elif precision == "trained-accuracy":
                run_trained_accuracy(device, args, results)
            else:
                run_precision(precision, folder, device, args, results, messages, bw, ref_logits)
        except Exception as exc:  # keep what the other parts measure
            results["errors"].append({"precision": precision, "error": f"{type(exc).__name__}: {exc}"})
            log.exception("%s failed", precision)
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()
        results["targets"] = targets(results)
        save(results, args)
    ref_logits.clear()
    results["targets"] = targets(results)
    return results


def _run_row(results: dict[str, Any], precision: str, n: int) -> dict[str, Any] | None:
    return next((r for r in results["runs"] if r["precision"] == precision and r["samples"] == n), None)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 13's targets, each with the measured value and whether it was met in this run."""
    out = []

    def add(name: str, value: float | None, goal: str, met: bool | None) -> None:
        out.append({"target": name, "measured": value, "goal": goal, "met": met})

    for p in ("bf16", "bf16-compile"):
        b1, b8 = _run_row(results, p, 1), _run_row(results, p, 8)
        if b1 is None and b8 is None:
            continue
        path = (b1 or b8)["decode"]
        frac = b1.get("fraction_of_bound_measured_copy") if b1 else None
        add(f"{p} ({path}) single-stream, fraction of the measured-copy bound", frac, ">= 0.50",
            None if frac is None else frac >= 0.5)
        tps = b1["decode_tokens_per_s"] if b1 else None
        add(f"{p} ({path}) single-stream tokens/s", tps, ">= 150 (H200)", None if tps is None else tps >= 150)
        tps8 = b8["decode_tokens_per_s"] if b8 else None
        add(f"{p} ({path}) 8 samples, aggregate tokens/s", tps8, ">= 1500", None if tps8 is None else tps8 >= 1500)
        ttft = b1["ttft_s"] if b1 else None
        add(f"{p} ({path}) time to first token after warm-up, 1 sample (s)", ttft, "< 0.100",
            None if ttft is None else ttft < 0.1)
        warm = [r["first_call_overhead_s"] for r in results["runs"] if r["precision"] == p]
        total = round(sum(max(0.0, w) for w in warm), 3) if warm else None
        add(f"{p} ({path}) first-call warm-up (sum over the shapes run, s)", total, "<= 60",
            None if total is None else total <= 60)
    for p in ("nf4", "nf4-compile"):
        q1 = _run_row(results, p, 1)
        if q1 is None and p != "nf4":
            continue
        fq = q1.get("fraction_of_bound_measured_copy") if q1 else None
        path = q1["decode"] if q1 else "graph"
        add(f"{p} ({path}) single-stream, fraction of its own bound", fq, ">= 0.25",
            None if fq is None else fq >= 0.25)
    return out


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _logit_row(precision: str, d: dict[str, Any]) -> str:
    """One row of a logit-difference table (logit_difference's fields, or the error that stopped it)."""
    if "error" in d:
        return f"| {precision} | {d['error']} | | | | | |"
    return (f"| {precision} | {d['relative_l2']} | {d['max_abs']} | {d['mean_abs']} | {d['bf16_logit_std']} | "
            f"{d['kl_bf16_to_quant']} | {d['top1_agreement']} ({d['positions']} positions) |")


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"# Generation speed: hf backend, {results['preset']} architecture, random weights",
        "",
        f"- device: **{results['device']}**; measured device-to-device copy **{results['measured_copy_tbps']} TB/s**"
        f" (datasheet {results['datasheet_tbps']} TB/s, {results['card']})",
        f"- versions: {json.dumps(results['versions'])}; date {results['date']}",
        f"- command: `{results.get('command', '')}`",
        f"- each sample decodes {results['max_new_tokens']} tokens (EOS ignored), temperature 1.0 (top-k 50 from the"
        f" generation defaults); median of {results['repeats']} calls after the first call of the same shape",
        "- bound = samples x measured copy bandwidth / bytes read per decode step (text-model weights incl. LM head and"
        " quantization state, excl. the embedding table, plus the KV cache in use at the mean context length)",
        "",
    ]
    if results.get("targets"):
        lines += ["## Targets (issue 13), this run", "", "| target | measured | goal | met |", "|---|---|---|---|"]
        for t in results["targets"]:
            met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
            lines.append(f"| {t['target']} | {t['measured']} | {t['goal']} | {met} |")
        lines.append("")
    lines += [
        "## Decode speed",
        "",
        "| precision | path | GB read / step | samples | TTFT s | decode tok/s | step ms | bound tok/s | % of bound |"
        " first call s | steady call s | graph captures s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        cap = sum(c.get("seconds", 0) for c in r.get("captured") or [])
        cells = [r["precision"], r.get("decode"), f"{r['bytes_per_step'] / 1e9:.2f}", r["samples"], r["ttft_s"],
                 r["decode_tokens_per_s"], r["step_ms"], r.get("bound_tokens_per_s_measured_copy", "-"),
                 _pct(r.get("fraction_of_bound_measured_copy")), r["first_call_s"], r["steady_call_s"], round(cap, 3)]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines.append("")
    loads = results.get("loads", {})
    if any(v.get("logits_vs_bf16") for v in loads.values()):
        lines += ["## Accuracy cost: logits against bf16 on fixed prompts", "",
                  "| precision | relative L2 | max abs | mean abs | bf16 logit std | KL(bf16 ‖ q) | top-1 agreement |",
                  "|---|---|---|---|---|---|---|"]
        for p, v in loads.items():
            if v.get("logits_vs_bf16"):
                lines.append(_logit_row(p, v["logits_vs_bf16"]))
        lines.append("")
    trained = results.get("trained_accuracy")
    if trained and trained.get("rows"):
        lines += [f"## Accuracy cost on trained weights: {trained['model']}, {trained['prompts']} real repair prompts,"
                  " logits against bf16", "",
                  "| precision | relative L2 | max abs | mean abs | bf16 logit std | KL(bf16 ‖ q) | top-1 agreement |",
                  "|---|---|---|---|---|---|---|"]
        lines += [_logit_row(p, d) for p, d in trained["rows"].items()]
        lines.append("")
    prof = [(r["precision"], r["samples"], r["profile"]) for r in results["runs"]
            if isinstance(r.get("profile"), dict) and "kernel_ms_per_step" in r["profile"]]
    if prof:
        lines += ["## Profile of one decode step", "",
                  "| precision | samples | graph ms / step | kernel ms / step | gap ms | matmul kernels ms |"
                  " weight-read floor ms | kernels / step | same step launched eagerly ms |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for p, n, d in prof:
            lines.append(f"| {p} | {n} | {d.get('graph_ms_per_step', '-')} | {d['kernel_ms_per_step']} | "
                         f"{d.get('gap_ms_per_step', '-')} | {d['matmul_kernel_ms_per_step']} | "
                         f"{d.get('weight_read_floor_ms', '-')} | {d['kernels_per_step']} | "
                         f"{d['eager_launch_ms_per_step']} |")
        lines.append("")
        for p, n, d in prof:
            tops = "; ".join(f"{k['name'][:60]} {k['ms_per_step']} ms x{k['per_step']}" for k in d["top_kernels"][:5])
            lines.append(f"- {p} n={n} top kernels: {tops}")
        lines.append("")
    costs = [(r["samples"], r["lookup_cost"]) for r in results["runs"]
             if r["precision"] == "bf16" and isinstance(r.get("lookup_cost"), dict)]
    look = results.get("lookup")
    if look:
        lines += [f"## Prompt lookup on real repair traffic ({look['model']}, {look['dtype']}, {look['decode']})", "",
                  "| request | case | tokens (all rows) | s without | s with | speed-up | steps without -> with |"
                  " longest-row tokens per step, without -> with | drafts kept | same text |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for c in look["cases"]:
            a, b = c["lookup_0"], c[f"lookup_{look['draft_tokens']}"]
            lines.append(f"| {c['request']} | {c['case']} | {a['tokens']} -> {b['tokens']} | {a['seconds']} | "
                         f"{b['seconds']} | {c['speedup']}x | {a['steps']} -> {b['steps']} | "
                         f"{a.get('tokens_per_step')} -> {b.get('tokens_per_step')} | {b['lookup_accepted']} | "
                         f"{c['same_text']} |")
        lines.append("")
    if costs:
        lines.append("7B (bf16, graphs): " + "; ".join(
            f"{n} sample(s): plain step {c.get('step_ms')} ms, check of {c.get('draft_tokens')} drafts "
            f"{c.get('check_ms')} ms" for n, c in costs if "step_ms" in c))
        if look and look.get("projected_7b"):
            lines.append("; projected 7B speed-up on the same traffic: " + ", ".join(
                f"#{p['request']} {p['case']}: {p['projected_speedup']}x" for p in look["projected_7b"]))
        lines.append("")
    if results.get("errors"):
        lines += ["## Errors", ""] + [f"- {e['precision']}: {e['error']}" for e in results["errors"]] + [""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_output_args(parser)
    parser.add_argument("--model-dir", default="/tmp/circuit_muse_bench/qwen2.5-vl-7b-random")
    parser.add_argument("--preset", choices=["qwen2.5-vl-7b", "tiny"], default="qwen2.5-vl-7b")
    parser.add_argument("--precisions", type=lambda s: [p for p in s.split(",") if p],
                        default=["bf16", "bf16-compile", "nf4", "nf4-compile", "int4", "int4-compile",
                                 "bf16-eager"])
    parser.add_argument("--samples", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8])
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--eager-tokens", type=int, default=64, help="tokens per sample for bf16-eager (slow)")
    parser.add_argument("--eager-repeats", type=int, default=2)
    parser.add_argument("--eager-samples", type=lambda s: [int(x) for x in s.split(",")], default=[1])
    parser.add_argument("--no-logits", dest="logits", action="store_false", help="skip the logit comparison")
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="skip the step profile")
    parser.add_argument("--no-lookup", dest="lookup", action="store_false", help="skip prompt lookup")
    parser.add_argument("--lookup-requests", type=int, default=3, help="repair requests to replay")
    parser.add_argument("--lookup-max-new-tokens", type=int, default=400)
    parser.add_argument("--lookup-repeats", type=int, default=3,
                        help="timed calls per case after the first; 0 = the first call only (step counts)")
    parser.add_argument("--lookup-cases", type=lambda s: [c for c in s.split(",") if c], default=["greedy", "t02", "n4"],
                        help="greedy, t02 (1 sample at T=0.2) and n4 (4 samples at T=0.8), comma-separated")
    parser.add_argument("--time-budget", type=float, default=330.0,
                        help="seconds after which the remaining parts are skipped (recorded as errors)")
    parser.add_argument("--tag", default=None, help="suffix of the result files (default: the card)")
    args = parser.parse_args(argv)
    args.out = output_dir(args, "generation_speed", parser)
    if set(args.lookup_cases) - {"greedy", "t02", "n4"}:
        parser.error("--lookup-cases takes greedy, t02 and n4")
    for p in args.precisions:
        if p not in PRECISIONS:
            parser.error(f"unknown precision {p!r}; choose from {', '.join(PRECISIONS)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    results = run(args)
    save(results, args)
    print(markdown(results))
    shutil.rmtree(args.model_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
