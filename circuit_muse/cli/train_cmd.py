"""`circuit-muse train --config PATH`: the 4-stage progressive (Q)LoRA fine-tune (see circuit_muse.train)."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import InputError, ModelError
from .paths import missing_extra_text, readable_file, writable_dir
from .progress import progress_bar, say


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("train", help="fine-tune a model with progressive (Q)LoRA stages",
                       description="Run the stages of a training TOML (see circuit_muse/train/configs/) in order, "
                                   "each continuing the previous stage's adapter; the last writes OUTPUT/final.")
    p.add_argument("--config", required=True, metavar="PATH", help="training TOML file")
    p.add_argument("--output", metavar="DIR", help="output folder (default: [run] output_dir of the config)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in the output folder: skip complete stages, restart from the last checkpoint")
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan (stages, records, steps, trainable parameters) and train nothing")
    p.add_argument("--json", action="store_true", help="print the plan or the result as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or per-step lines")
    p.set_defaults(func=run)


def _fmt_int(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _print_plan(plan: Any) -> None:
    cfg = plan.config
    m, lo = cfg.model, cfg.lora
    print(f"training plan for {cfg.source}")
    print(f"  base model   {m.base}")
    print(f"  device       {plan.device}, quantization {plan.quantization}"
          + (f" ({m.compute_dtype} compute)" if plan.device == "cuda" else "")
          + f", gradient checkpointing {'on' if m.gradient_checkpointing else 'off'}")
    print(f"  LoRA         r={lo.r} alpha={lo.alpha} dropout={lo.dropout} on {', '.join(lo.target_modules)}"
          + (f" (excluding {', '.join(lo.exclude_modules)})" if lo.exclude_modules else ""))
    if plan.trainable_params is not None:
        pct = 100.0 * plan.trainable_params / plan.total_params if plan.total_params else 0.0
        print(f"  trainable    {_fmt_int(plan.trainable_params)} of {_fmt_int(plan.total_params)} parameters "
              f"({pct:.2f}%)")
    else:
        print(f"  trainable    ? ({plan.params_note})")
    print(f"  output       {cfg.run.output_dir}")
    print(f"  {'#':<3}{'stage':<22}{'data':<10}{'train':>7}{'eval':>6}{'steps':>7}{'epochs':>8}{'lr':>10}"
          f"{'batch x accum':>15}")
    for s in plan.stages:
        h = s.hyper
        print(f"  {s.index:<3}{s.name:<22}{str(list(s.data_stages)):<10}{s.n_train:>7}{s.n_eval:>6}{s.steps:>7}"
              f"{h.epochs:>8}{h.learning_rate:>10.2g}{f'{h.batch_size} x {h.grad_accum}':>15}")


class _TrainProgress:
    """One bar per stage on a terminal (steps, ETA, loss); the plain per-event lines in logs."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, ev: Any) -> None:
        if ev.kind == "stage_start":
            self.close()
            self.bar = progress_bar(ev.total_steps, f"[{ev.stage}]", unit="step", initial=ev.step or 0)
        if self.bar is not None and not self.bar.disable:
            if ev.kind == "step":
                self.bar.update(max(0, ev.step - self.bar.n))
                self.bar.set_postfix(loss=f"{ev.data['loss']:.4f}", refresh=False)
                return
            if ev.kind == "stage_end":
                self.close()
        for line in _event_lines(ev):
            if self.bar is not None:
                say(self.bar, line, sys.stdout)
            else:
                print(line, flush=True)
        if ev.kind == "done":
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _event_lines(ev: Any) -> list[str]:
    """The log lines for one training event (none for events that only move the bar)."""
    d = ev.data
    out: list[str] = []
    if ev.kind == "stage_start":
        out.append(f"[{ev.stage}] stage {d['index']}: {d['n_train']} train / {d['n_eval']} eval records, "
              f"{ev.total_steps} steps" + (f", starting at step {ev.step}" if ev.step else ""))
        if d.get("skipped_too_long"):
            out.append(f"[{ev.stage}] {d['skipped_too_long']} record(s) skipped: prompt longer than max_length")
    elif ev.kind == "stage_skip":
        out.append(f"[{ev.stage}] complete, skipped")
    elif ev.kind == "resume":
        out.append(f"[{ev.stage}] resuming from {d['checkpoint']}")
    elif ev.kind == "step":
        out.append(f"[{ev.stage}] step {ev.step}/{ev.total_steps} loss {d['loss']:.4f} lr {d['lr']:.3g} "
              f"{d['tokens_per_second']:.0f} tok/s")
    elif ev.kind == "eval":
        out.append(f"[{ev.stage}] step {ev.step}/{ev.total_steps} eval loss {d['eval_loss']:.4f}")
    elif ev.kind == "checkpoint":
        out.append(f"[{ev.stage}] checkpoint {d['path']}")
    elif ev.kind == "stage_end":
        out.append(f"[{ev.stage}] done in {d['seconds']:.1f}s: train loss {d['train_loss_first']:.4f} -> "
              f"{d['train_loss_last']:.4f}" + (f", eval loss {d['eval_loss_before']:.4f} -> {d['eval_loss_after']:.4f}"
                                               if d.get("eval_loss_after") is not None else ""))
    return out


def run(args: argparse.Namespace) -> int:
    """0: trained (or planned); 1: training failed; 2: bad config, data or environment."""
    try:
        from ..train import load_config

        cfg = load_config(readable_file(args.config, "training config"))
        if args.output:
            writable_dir(args.output, "--output")
        if args.output:
            cfg = cfg.with_output_dir(args.output)
        try:
            from ..train.pipeline import make_plan, run_training
        except ImportError as exc:
            raise InputError(f"training needs the [hf] extra (torch, transformers, peft): {exc}") from exc
        if args.dry_run:
            plan = make_plan(cfg)
            if args.json:
                print(json.dumps(plan.to_dict(), indent=2))
            else:
                _print_plan(plan)
            return 0
        progress = None if (args.json or args.quiet) else _TrainProgress()
        try:
            result = run_training(cfg, resume=args.resume, on_event=progress)
        finally:
            if progress is not None:
                progress.close()
    except ModuleNotFoundError as exc:  # torch etc. are imported lazily, inside make_plan/run_training
        print(f"circuit-muse: {missing_extra_text(exc)}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"circuit-muse: {exc}", file=sys.stderr)
        return 2
    except ModelError as exc:
        print(f"circuit-muse: training failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"final_dir": str(result.final_dir), "trainable_params": result.trainable_params,
                          "total_params": result.total_params, "skipped_stages": list(result.skipped_stages),
                          "stages": [s.to_dict() for s in result.stages]}, indent=2))
    else:
        print(f"final adapter: {result.final_dir} ({_fmt_int(result.trainable_params)} trainable parameters)")
    return 0
