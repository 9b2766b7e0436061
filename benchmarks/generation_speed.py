"""Generation speed of the hf backend: Qwen2.5-VL-7B architecture with random weights, bf16 vs nf4, 1/4/8 samples.

Runs on a CUDA GPU (see scripts/gpu/run_device.sh). Nothing is downloaded: the model is built from the
published Qwen2.5-VL-7B-Instruct config.json (written out below by hand), initialised at random, saved to a
local folder with a 152k-entry word-level tokenizer and a ChatML template, and then loaded through
`circuit_muse.models.get_model("hf:FOLDER", ...)`, the same code path users take. Generation uses the
backend's `stream()` with ``ignore_eos=True`` so that every sample decodes exactly ``--max-new-tokens``.

Reported per (precision, samples):
- time to first token (chat template, tokenisation, prefill of n copies of the prompt, first token);
- decode tokens/s over all samples, (tokens - n) / (duration - TTFT);
- the HBM-bandwidth bound: each decode step must read every weight byte of the text model once (the
  embedding table excepted: one row per token) plus the KV cache, so tokens/s <= n * BW / bytes_per_step,
  with BW the card's datasheet bandwidth (H100 SXM 3.35 TB/s, H200 4.8 TB/s) and, separately, the
  device-to-device copy rate measured on the spot.

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


def decode_bytes(model: Any) -> dict[str, int]:
    """Bytes a decode step reads: the text model's weights (not the embedding table) and the LM head."""
    import torch

    text = model.model.language_model
    weights = 0
    for name, p in text.named_parameters():
        if name.startswith("embed_tokens"):
            continue
        weights += p.numel() * p.element_size()
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


PRECISIONS = {
    "bf16": {"quantization": "none", "dtype": "bfloat16"},
    "nf4": {"quantization": "nf4"},
    "fp32": {"quantization": "none", "dtype": "float32"},
    # the hf backend's cache="static": a fixed-size KV cache, so transformers compiles the decode step
    "bf16-static": {"quantization": "none", "dtype": "bfloat16", "cache": "static"},
}


def _tag(results: dict[str, Any], args: argparse.Namespace) -> str:
    tag = args.tag or results["device"].replace("NVIDIA ", "").split()[0].lower().replace("/", "_")
    return tag if args.preset == "qwen2.5-vl-7b" else f"{tag}_{args.preset}"


def save(results: dict[str, Any], args: argparse.Namespace) -> None:
    """Write the JSON and Markdown results (after every run, so that a time-out keeps what was measured)."""
    tag = _tag(results, args)
    (args.out / f"generation_speed_{tag}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / f"generation_speed_{tag}.md").write_text(markdown(results))


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    import transformers

    from circuit_muse.models import GenerationRequest, Message, get_model

    device = "cuda" if torch.cuda.is_available() else "cpu"
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or "cpu"
    spec_tbps, card = datasheet(gpu) if device == "cuda" else (None, "cpu")
    measured_tbps = copy_bandwidth_tbps(device)
    config = QWEN25_VL_7B_CONFIG if args.preset == "qwen2.5-vl-7b" else TINY_CONFIG
    folder = Path(args.model_dir)
    if folder.exists():
        shutil.rmtree(folder)
    build = build_random_model(folder, config, device)
    log.info("built %s parameters in %.1f s, saved in %.1f s", f"{build['parameters']:,}", build["init_s"],
             build["save_s"])
    try:
        import bitsandbytes as bnb  # noqa: F401

        bnb_version = bnb.__version__
    except ImportError:
        bnb_version = None
    results: dict[str, Any] = {
        "benchmark": "generation_speed",
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "device": gpu,
        "card": card,
        "datasheet_tbps": spec_tbps,
        "measured_copy_tbps": None if measured_tbps is None else round(measured_tbps, 3),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "bitsandbytes": bnb_version,
                     "python": platform.python_version()},
        "preset": args.preset,
        "build": build,
        "max_new_tokens": args.max_new_tokens,
        "repeats": args.repeats,
        "runs": [],
        "loads": {},
    }
    messages = [Message("system", SYSTEM), Message("user", USER)]
    for precision in args.precisions:
        options = dict(PRECISIONS[precision], ignore_eos=True, device=device)
        if device == "cpu" and precision == "nf4":
            log.warning("nf4 on the CPU is slow and not what this benchmark is for")
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        t0 = time.monotonic()
        model = get_model(f"hf:{folder}", **options).load()
        load_s = time.monotonic() - t0
        nbytes = decode_bytes(model.model)
        results["loads"][precision] = {
            "load_s": round(load_s, 2), "quantization": model.quantization, "dtype": model.dtype,
            "decode_weight_bytes": nbytes["weights"], "quant_state_bytes": nbytes["quant_state"],
            "memory_allocated_gb": round(torch.cuda.memory_allocated() / 1e9, 2) if device == "cuda" else None,
        }
        log.info("%s: loaded in %.1f s, %.2f GB read per decode step", precision, load_s, nbytes["weights"] / 1e9)
        model.generate(GenerationRequest(messages, n=1, max_new_tokens=4, temperature=1.0, seed=0))  # warm-up
        for n in args.samples:
            # Warm up this batch shape first: the first call of each shape was up to 3x slower on the H200.
            model.generate(GenerationRequest(messages, n=n, max_new_tokens=16, temperature=1.0, seed=99))
            reps = []
            for rep in range(args.repeats):
                chunks = [0]

                def on_chunk(_chunk: Any, chunks: list[int] = chunks) -> None:
                    chunks[0] += 1

                req = GenerationRequest(messages, n=n, max_new_tokens=args.max_new_tokens, temperature=1.0,
                                        seed=rep)
                if device == "cuda":
                    torch.cuda.synchronize()
                res = model.stream(req, on_chunk)
                tokens = sum(c.completion_tokens for c in res.completions)
                ttft = res.time_to_first_token_s or 0.0
                decode_s = res.duration_s - ttft
                reps.append({
                    "ttft_s": ttft, "duration_s": res.duration_s, "tokens": tokens, "chunks": chunks[0],
                    "decode_tps": (tokens - n) / decode_s if decode_s > 0 else None,
                    "prompt_tokens": res.prompt_tokens,
                })
            prompt_tokens = reps[0]["prompt_tokens"]
            avg_ctx = prompt_tokens + args.max_new_tokens / 2
            step_bytes = nbytes["weights"] + n * avg_ctx * nbytes["kv_per_position"]
            tps = statistics.median(r["decode_tps"] for r in reps)
            row = {
                "precision": precision,
                "samples": n,
                "prompt_tokens": prompt_tokens,
                "tokens_per_sample": args.max_new_tokens,
                "ttft_s": round(statistics.median(r["ttft_s"] for r in reps), 4),
                "decode_tokens_per_s": round(tps, 2),
                "decode_tokens_per_s_per_sample": round(tps / n, 2),
                "end_to_end_tokens_per_s": round(statistics.median(r["tokens"] / r["duration_s"] for r in reps), 2),
                "decode_tokens_per_s_min_max": [round(min(r["decode_tps"] for r in reps), 2),
                                                round(max(r["decode_tps"] for r in reps), 2)],
                "step_ms": round(1000 * n / tps, 2),
                "bytes_per_step": int(step_bytes),
                "reps": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in reps],
                "peak_memory_gb": round(torch.cuda.max_memory_allocated() / 1e9, 2) if device == "cuda" else None,
            }
            for key, bw in (("datasheet", spec_tbps), ("measured_copy", measured_tbps)):
                if bw:
                    bound = n * bw * 1e12 / step_bytes
                    row[f"bound_tokens_per_s_{key}"] = round(bound, 1)
                    row[f"fraction_of_bound_{key}"] = round(tps / bound, 4)
            results["runs"].append(row)
            save(results, args)
            log.info("%s n=%d: TTFT %.3f s, %.1f tokens/s (%.1f per sample), %.1f%% of the datasheet bound",
                     precision, n, row["ttft_s"], tps, tps / n, 100 * row.get("fraction_of_bound_datasheet", 0))
        model.close()
        del model
        gc.collect()
    return results


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"# Generation speed: hf backend, {results['preset']} architecture, random weights",
        "",
        f"- device: **{results['device']}**, datasheet bandwidth {results['datasheet_tbps']} TB/s ({results['card']});"
        f" measured device-to-device copy {results['measured_copy_tbps']} TB/s",
        f"- versions: {json.dumps(results['versions'])}",
        f"- date: {results['date']}; model built with {results['build']['parameters']:,} parameters",
        f"- each sample decodes {results['max_new_tokens']} tokens (EOS ignored); median of {results['repeats']} runs after a"
        " warm-up of the same batch shape;"
        " `model.generate` with a dynamic cache (no compilation), except `*-static` rows: the backend's"
        " `cache=\"static\"` option (static KV cache, decode step compiled by transformers); streaming on",
        "- bound = samples x bandwidth / bytes read per decode step (text-model weights incl. LM head, excl. the"
        " embedding table, plus the KV cache at the mean context length)",
        "",
        "| precision | loaded in | GB read / step | samples | TTFT s | decode tok/s | tok/s per sample | step ms |"
        " bound tok/s (datasheet) | % of bound | % of measured-copy bound |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        load = results["loads"][r["precision"]]

        def pct(key: str, r: dict[str, Any] = r) -> str:
            return f"{100 * r[key]:.1f}%" if key in r else "-"

        cells = [
            r["precision"], f"{load['load_s']} s", f"{r['bytes_per_step'] / 1e9:.2f}", r["samples"], r["ttft_s"],
            r["decode_tokens_per_s"], r["decode_tokens_per_s_per_sample"], r["step_ms"],
            r.get("bound_tokens_per_s_datasheet", "-"), pct("fraction_of_bound_datasheet"),
            pct("fraction_of_bound_measured_copy"),
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_output_args(parser)
    parser.add_argument("--model-dir", default="/tmp/circuit_muse_bench/qwen2.5-vl-7b-random")
    parser.add_argument("--preset", choices=["qwen2.5-vl-7b", "tiny"], default="qwen2.5-vl-7b")
    parser.add_argument("--precisions", type=lambda s: s.split(","), default=["bf16", "nf4"])
    parser.add_argument("--samples", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 8])
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tag", default=None, help="suffix of the result files (default: the card)")
    args = parser.parse_args(argv)
    args.out = output_dir(args, "generation_speed", parser)
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
