"""4-bit QLoRA through the real pipeline on a GPU: tiny Qwen2, tiny Qwen2.5-VL, and a mid-size random model.

For each: circuit_muse.train.run_training with quantization nf4 (bitsandbytes), gradient checkpointing,
4 stages over tests/data/train_sample.jsonl. The tiny Qwen2 run is interrupted mid-stage 2 and resumed;
its final folder is reloaded on a 4-bit base with `load_adapter` and must change the logits and generate.

    python scripts/gpu/train_gpu_check.py --out DIR      (needs CUDA + bitsandbytes)
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

# circuit_muse imports its engine lazily, so the GPU box needs no pyslang for the training code.


class Interrupt(Exception):
    pass


def mid_size_qwen2(out_dir: Path) -> Path:
    """Qwen2.5-0.5B's shape (hidden 896, 24 layers, 14 heads, 2 kv heads), random init, the tiny tokenizer."""
    import torch
    from train_support import build_tokenizer
    from transformers import Qwen2Config, Qwen2ForCausalLM

    out_dir.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(out_dir)
    cfg = Qwen2Config(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                      num_key_value_heads=2, vocab_size=151936, max_position_embeddings=4096, rope_theta=1e6,
                      tie_word_embeddings=True, bos_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Qwen2ForCausalLM._from_config(cfg, dtype=torch.bfloat16)
    model.save_pretrained(str(out_dir))
    del model
    torch.cuda.empty_cache()
    return out_dir


def run_case(name: str, base: Path, work: Path, *, train: str, interrupt_at: tuple[str, int] | None = None,
             reload: bool = False) -> dict[str, Any]:
    import torch
    from train_support import write_config

    from circuit_muse.train import load_config, run_training

    cfg_path = write_config(work / f"{name}.toml", base, work / f"{name}_out", device="cuda", quantization="nf4",
                            gradient_checkpointing=True, train=train)
    cfg = load_config(cfg_path)
    torch.cuda.reset_peak_memory_stats()
    rec: dict[str, Any] = {"case": name}
    events: list[str] = []

    def on_event(ev: Any) -> None:
        events.append(f"{ev.kind}:{ev.stage}:{ev.step}")
        if interrupt_at and ev.kind == "step" and (ev.stage, ev.step) == interrupt_at and "interrupted_at" not in rec:
            rec["interrupted_at"] = list(interrupt_at)
            raise Interrupt()

    t0 = time.perf_counter()
    if interrupt_at:
        try:
            run_training(cfg, on_event=on_event)
        except Interrupt:
            pass
        result = run_training(cfg, resume=True, on_event=on_event)
    else:
        result = run_training(cfg, on_event=on_event)
    rec["seconds"] = round(time.perf_counter() - t0, 1)
    rec["peak_mem_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    rec["trainable_params"] = result.trainable_params
    rec["total_params"] = result.total_params
    rec["skipped_stages"] = list(result.skipped_stages)
    rec["resume_events"] = [e for e in events if e.startswith(("resume", "stage_skip"))]
    rec["stages"] = [{"name": s.name, "steps": s.steps, "train_loss_first": s.train_losses[0],
                      "train_loss_last": s.train_losses[-1], "eval_before": s.eval_loss_before,
                      "eval_after": s.eval_loss_after, "tokens_per_second": s.tokens_per_second}
                     for s in result.stages]
    manifest = json.loads((result.final_dir / "circuit_muse_train.json").read_text())
    rec["manifest_quantization"] = manifest["quantization"]
    rec["manifest_versions"] = manifest["versions"]
    if reload:
        rec["reload"] = reload_check(base, result.final_dir)
    return rec


def reload_check(base: Path, final: Path) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                             bnb_4bit_compute_dtype=torch.bfloat16)
    tok = AutoTokenizer.from_pretrained(str(final))
    model = AutoModelForCausalLM.from_pretrained(str(base), quantization_config=bnb, device_map={"": 0})
    enc = tok.apply_chat_template([{"role": "user", "content": "Write a counter."}], add_generation_prompt=True,
                                  return_dict=True, return_tensors="pt").to("cuda")
    with torch.no_grad():
        base_logits = model(**enc).logits.float()
    model.load_adapter(str(final))
    with torch.no_grad():
        tuned_logits = model(**enc).logits.float()
        gen = model.generate(**enc, max_new_tokens=12, do_sample=False)
    return {"max_logit_diff": float((tuned_logits - base_logits).abs().max()),
            "generated_tokens": int(gen.shape[1] - enc["input_ids"].shape[1]),
            "text": tok.decode(gen[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)[:200]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--skip-mid", action="store_true")
    args = ap.parse_args()

    import torch
    from train_support import build_qwen2, build_qwen25_vl

    work = Path(tempfile.mkdtemp(prefix="train_gpu_"))
    report: dict[str, Any] = {"device": torch.cuda.get_device_name(0), "cases": []}
    small = "epochs = 3\nsave_every = 2\n"
    cases = [
        ("tiny_qwen2_nf4_resume", lambda: build_qwen2(work / "tiny_qwen2"),
         dict(train=small, interrupt_at=("stage2", 3), reload=True)),
        ("tiny_qwen25vl_nf4", lambda: build_qwen25_vl(work / "tiny_vl"), dict(train=small)),
    ]
    if not args.skip_mid:
        cases.append(("mid_qwen2_0.5b_nf4", lambda: mid_size_qwen2(work / "mid"),
                      dict(train="epochs = 2\nsave_every = 2\nlearning_rate = 0.0002\n")))
    for name, build, kw in cases:
        t0 = time.perf_counter()
        try:
            base = build()
            built = round(time.perf_counter() - t0, 1)
            rec = run_case(name, base, work, **kw)
            rec["build_s"] = built
        except Exception as exc:  # keep going: report every case
            rec = {"case": name, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-3000:]}
        report["cases"].append(rec)
        print(json.dumps(rec, indent=1)[:3000], flush=True)
    import bitsandbytes
    import peft
    import transformers

    report["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__,
                          "peft": peft.__version__, "bitsandbytes": bitsandbytes.__version__}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "train_gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all("error" not in c for c in report["cases"]) else 1


if __name__ == "__main__":
    sys.exit(main())
