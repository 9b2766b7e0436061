"""QLoRA training speed on the Qwen2.5-VL-7B architecture (the original CircuitMuse base), random weights.

The model is built from a config written by hand from the published Qwen2.5-VL-7B-Instruct values (no
download), saved once, then loaded through the training code itself (circuit_muse.train.qlora: nf4,
double quantization, bf16 compute, prepare_model_for_kbit_training, gradient checkpointing), with the
default LoRA (r=16, alpha=16 on q,k,v,o,gate,up,down_proj) and the pipeline's forward_backward step.

Reports per batch size: tokens/s, step time, peak GPU memory, and MFU = 6 * N_text * tokens/s / peak,
N_text = parameters of the language model (embeddings and lm_head included, the vision tower excluded),
peak = the card's dense bf16 peak (H100 SXM and H200: 989 TFLOP/s). 6N counts a full fine-tune's FLOPs;
LoRA skips the frozen weights' gradients (about 4N) but gradient checkpointing recomputes the forward
(+2N), so the hardware does about 6N as well.

    python benchmarks/train_speed.py --out DIR [--batch-sizes 1,2,4] [--seq-len 1024] [--steps 6]
    python benchmarks/train_speed.py --tiny --out DIR     # CPU smoke test of the script itself
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # for _results also when a test loads this file by path
from _results import add_output_args, output_dir  # noqa: E402

# circuit_muse imports its engine lazily, so the GPU box needs no pyslang for the training code.

PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}
ORIGINAL_TRAINABLE = 47_500_000  # published: "47.5M trainable parameters"


def qwen25_vl_7b_config_dict() -> dict[str, Any]:
    """Qwen2.5-VL-7B-Instruct's config.json, by hand from the published values."""
    return {
        "architectures": ["Qwen2_5_VLForConditionalGeneration"],
        "model_type": "qwen2_5_vl",
        "bos_token_id": 151643,
        "eos_token_id": 151645,
        "pad_token_id": 151643,
        "image_token_id": 151655,
        "video_token_id": 151656,
        "vision_start_token_id": 151652,
        "vision_end_token_id": 151653,
        "tie_word_embeddings": False,
        "text_config": {
            "model_type": "qwen2_5_vl_text",
            "hidden_size": 3584,
            "intermediate_size": 18944,
            "num_hidden_layers": 28,
            "num_attention_heads": 28,
            "num_key_value_heads": 4,
            "vocab_size": 152064,
            "hidden_act": "silu",
            "max_position_embeddings": 128000,
            "rms_norm_eps": 1e-6,
            "rope_parameters": {"rope_type": "default", "mrope_section": [16, 24, 24], "rope_theta": 1000000.0},
            "sliding_window": 32768,
            "max_window_layers": 28,
            "use_sliding_window": False,
            "attention_dropout": 0.0,
            "bos_token_id": 151643,
            "eos_token_id": 151645,
            "pad_token_id": 151643,
            "tie_word_embeddings": False,
        },
        "vision_config": {
            "model_type": "qwen2_5_vl",
            "depth": 32,
            "hidden_size": 1280,
            "intermediate_size": 3420,
            "num_heads": 16,
            "in_chans": 3,
            "out_hidden_size": 3584,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 112,
            "fullatt_block_indexes": [7, 15, 23, 31],
            "tokens_per_second": 2,
            "hidden_act": "silu",
        },
    }


def tiny_vl_config_dict() -> dict[str, Any]:
    d = qwen25_vl_7b_config_dict()
    d["text_config"].update(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                            num_key_value_heads=2, vocab_size=1024,
                            rope_parameters={"rope_type": "default", "mrope_section": [2, 2, 4], "rope_theta": 1e6})
    d["vision_config"].update(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                              fullatt_block_indexes=[0])
    for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
        d[key] = d["text_config"][key] = 0
    d.update(image_token_id=1000, video_token_id=1001, vision_start_token_id=1002, vision_end_token_id=1003)
    return d


def build_config(d: dict[str, Any]) -> Any:
    from transformers import Qwen2_5_VLConfig

    d = json.loads(json.dumps(d))
    d.pop("architectures", None)
    d.pop("model_type", None)
    return Qwen2_5_VLConfig(**d)


def param_counts(cfg: Any) -> dict[str, int]:
    """Exact parameter counts from a meta-device model (no memory used)."""
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    with torch.device("meta"):
        m = Qwen2_5_VLForConditionalGeneration(cfg)
    total = sum(p.numel() for p in m.parameters())
    vision = sum(p.numel() for n, p in m.named_parameters() if ".visual." in f".{n}")
    embed = m.get_input_embeddings().weight.numel() + m.get_output_embeddings().weight.numel()
    return {"total": total, "vision": vision, "text": total - vision, "text_non_embedding": total - vision - embed}


def gpu_name() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else platform.processor() or "cpu"


def peak_tflops(name: str) -> float | None:
    for key, v in PEAK_BF16_TFLOPS.items():
        if key in name:
            return v
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_output_args(ap)
    ap.add_argument("--batch-sizes", default="1,2,4")
    ap.add_argument("--seq-len", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=6, help="timed optimizer steps per batch size")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--work", default=None, help="where the random checkpoint is written (default: a temp dir)")
    ap.add_argument("--tiny", action="store_true", help="tiny VL model, CPU, no quantization (smoke test)")
    args = ap.parse_args(argv)
    args.out = output_dir(args, "train_speed", ap)

    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    from circuit_muse.train.config import LoraSettings, ModelSettings
    from circuit_muse.train.pipeline import forward_backward
    from circuit_muse.train.qlora import add_new_adapter, count_parameters, load_model_for_training

    cuda = torch.cuda.is_available() and not args.tiny
    cfg = build_config(tiny_vl_config_dict() if args.tiny else qwen25_vl_7b_config_dict())
    counts = param_counts(cfg)
    work = Path(args.work or tempfile.mkdtemp(prefix="train_speed_"))
    base = work / "qwen25vl_random"
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    torch.manual_seed(0)
    dev = torch.device("cuda" if cuda else "cpu")
    with dev:
        model = Qwen2_5_VLForConditionalGeneration._from_config(cfg, dtype=torch.bfloat16 if cuda else torch.float32)
    model.save_pretrained(str(base), max_shard_size="4GB")
    del model
    if cuda:
        torch.cuda.empty_cache()
    timings["build_and_save_s"] = round(time.perf_counter() - t0, 1)
    print(f"built and saved in {timings['build_and_save_s']} s", flush=True)

    t0 = time.perf_counter()
    settings = ModelSettings(base=str(base), quantization="nf4" if cuda else "none", device="cuda" if cuda else "cpu",
                             gradient_checkpointing=True)
    loaded = load_model_for_training(settings)
    torch.manual_seed(0)
    peft_model = add_new_adapter(loaded.model, LoraSettings())
    pc = count_parameters(peft_model)
    timings["load_quantize_s"] = round(time.perf_counter() - t0, 1)
    print(f"timings {timings}, trainable {pc.trainable:,}", flush=True)
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-4)
    peft_model.train()
    vocab = cfg.text_config.vocab_size
    seq = args.seq_len if cuda else min(args.seq_len, 64)
    name = gpu_name()
    peak = peak_tflops(name) if cuda else None
    rows = []
    for bs in [int(x) for x in args.batch_sizes.split(",")]:
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        g = torch.Generator().manual_seed(bs)
        ids = torch.randint(10, min(vocab, 150000), (bs, seq), generator=g)
        batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}
        times = []
        try:
            for i in range(args.warmup + args.steps):
                t = time.perf_counter()
                loss, _, ntok = forward_backward(peft_model, [batch], device=dev.type,
                                                 autocast_dtype=loaded.autocast_dtype)
                torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                opt.step()
                opt.zero_grad(set_to_none=True)
                if cuda:
                    torch.cuda.synchronize()
                if i >= args.warmup:
                    times.append(time.perf_counter() - t)
        except torch.OutOfMemoryError as exc:
            rows.append({"batch_size": bs, "seq_len": seq, "error": f"out of memory: {str(exc)[:200]}"})
            opt.zero_grad(set_to_none=True)
            result = write_result(args, name, peak, loaded, pc, counts, timings, rows)
            continue
        step_s = sorted(times)[len(times) // 2]
        tps = bs * seq / step_s
        row = {"batch_size": bs, "seq_len": seq, "tokens_per_step": bs * seq, "step_s_median": round(step_s, 4),
               "step_s_min": round(min(times), 4), "tokens_per_s": round(tps, 1), "last_loss": round(loss, 4),
               "peak_mem_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
               "peak_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2) if cuda else None}
        if peak:
            achieved = 6 * counts["text"] * tps
            row["achieved_tflops_6N"] = round(achieved / 1e12, 1)
            row["mfu_6N"] = round(achieved / (peak * 1e12), 4)
        rows.append(row)
        print(json.dumps(row), flush=True)
        result = write_result(args, name, peak, loaded, pc, counts, timings, rows)

    print(render_md(result))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def write_result(args: argparse.Namespace, name: str, peak: float | None, loaded: Any, pc: Any,
                 counts: dict[str, int], timings: dict[str, float], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Write train_speed_<card>.json/.md (called after every batch size, so a cut-off run keeps its rows)."""
    import peft
    import torch
    import transformers

    from circuit_muse.train.config import LoraSettings

    bnb = None
    try:
        import bitsandbytes

        bnb = bitsandbytes.__version__
    except ImportError:
        pass
    result = {
        "benchmark": "train_speed",
        "model": "Qwen2.5-VL-7B architecture, random init" if not args.tiny else "tiny Qwen2.5-VL (smoke)",
        "device": name,
        "peak_bf16_tflops": peak,
        "quantization": loaded.quantization,
        "compute_dtype": str(loaded.autocast_dtype),
        "gradient_checkpointing": True,
        "lora": {"r": 16, "alpha": 16, "targets": list(LoraSettings().target_modules)},
        "trainable_params": pc.trainable,
        "original_trainable_params": ORIGINAL_TRAINABLE,
        "total_params": pc.total,
        "param_counts": counts,
        "timings": timings,
        "rows": rows,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
                     "bitsandbytes": bnb, "python": platform.python_version()},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = args.out
    tag = "tiny" if args.tiny else name.replace("NVIDIA ", "").split()[0].lower()
    (out / f"train_speed_{tag}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"train_speed_{tag}.md").write_text(render_md(result))
    return result


def render_md(r: dict[str, Any]) -> str:
    lines = [
        f"# QLoRA training speed: {r['model']}",
        "",
        f"- device: {r['device']} (bf16 dense peak {r['peak_bf16_tflops']} TFLOP/s)",
        f"- quantization: {r['quantization']}, compute {r['compute_dtype']}, gradient checkpointing on",
        f"- LoRA r={r['lora']['r']} alpha={r['lora']['alpha']} on {', '.join(r['lora']['targets'])}",
        f"- trainable parameters: {r['trainable_params']:,} (original CircuitMuse: 47.5M) of {r['total_params']:,}",
        f"- N_text for MFU: {r['param_counts']['text']:,} (vision tower {r['param_counts']['vision']:,} excluded)",
        f"- build+save {r['timings']['build_and_save_s']} s, load+quantize {r['timings']['load_quantize_s']} s",
        f"- versions: {r['versions']}",
        "- reproduce: `bash scripts/gpu/train_gpu_run.sh \"$OUT\"` on the device machine (carry .whl with "
        "bitsandbytes 0.50.2 and .whl_train with transformers 5.23.0), or `python benchmarks/train_speed.py --out DIR`",
        "",
        "| batch x seq | step s (median) | tokens/s | peak mem GiB | TFLOP/s (6N) | MFU |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in r["rows"]:
        if "error" in row:
            lines.append(f"| {row['batch_size']} x {row['seq_len']} | {row['error']} | | | | |")
            continue
        mfu = f"{100 * row['mfu_6N']:.1f}%" if "mfu_6N" in row else "-"
        lines.append(f"| {row['batch_size']} x {row['seq_len']} | {row['step_s_median']} | {row['tokens_per_s']:,} | "
                     f"{row['peak_mem_gib']} | {row.get('achieved_tflops_6N', '-')} | {mfu} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
