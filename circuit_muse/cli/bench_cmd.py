"""`circuit-muse bench`: score a model on a benchmark suite (pass@k, per round, categories); CI regression check."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError
from .generate_cmd import _model_options


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="score a model on builtin, VerilogEval or RTLLM problems (pass@k, reports)",
                       description="Generate with MODEL, verify with the benchmark's own testbench under circuit_muse's "
                                   "integrity rules, and write records, a report and plots into --out. An interrupted "
                                   "run resumes from the records in --out.")
    p.add_argument("--suite", required=True, help="builtin | verilog-eval:PATH | rtllm:PATH (your own clone)")
    p.add_argument("--model", required=True, help="reference | forged (harness self-checks; forged gives one design per "
                   "forging technique and ignores --samples) | hf:PATH | "
                   "openai:BASE_URL#NAME")
    p.add_argument("--model-option", action="append", default=[], metavar="KEY=VALUE", help="backend option")
    p.add_argument("--samples", type=int, default=1, help="n: samples per problem (default 1)")
    p.add_argument("--rounds", type=int, default=1, help="repair rounds per sample (default 1: no repair)")
    p.add_argument("--temperature", type=float, help="sampling temperature (default: the backend's)")
    p.add_argument("--top-p", type=float, help="nucleus sampling (default: the backend's)")
    p.add_argument("--max-new-tokens", type=int, default=1536)
    p.add_argument("--mode", choices=["hidden", "oracle"], default="hidden",
                   help="hidden: the loop sees lint/synth only; oracle: the benchmark's bench is in the loop")
    p.add_argument("--checks", choices=["full", "functional"], default="full",
                   help="full: also run Verilator lint and Yosys synth and report their findings beside the verdict; "
                        "functional: only what the verdict needs (faster)")
    p.add_argument("--workers", type=int, default=2, help="local verification processes (default 2)")
    p.add_argument("--executor", choices=["local", "ray"], default="local")
    p.add_argument("--address", help="Ray cluster address for --executor ray (e.g. ray://head:10001 or auto)")
    p.add_argument("--out", required=True, type=Path, help="folder for records.jsonl, summary.json, report.md, plots")
    p.add_argument("--baseline", type=Path, help="a previous run's summary.json to compare pass@1 against")
    p.add_argument("--fail-under", type=float, default=None,
                   help="with --baseline: exit 1 if pass@1 drops by more than this (default 0)")
    p.add_argument("--junit", type=Path, help="write JUnit XML, one testcase per problem")
    p.add_argument("--limit", type=int, help="score K problems (a seeded sample: same K, same problems)")
    p.add_argument("--problems", metavar="GLOB", help="only problems whose id matches GLOB")
    p.add_argument("--seed", type=int, default=1, help="problem sample and model sampling seed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..bench.harness import BenchConfig, run_bench
    from ..bench.report import regression, write_all

    if args.baseline and not args.baseline.is_file():
        raise InputError(f"--baseline {args.baseline}: no such file")
    if args.fail_under is not None and not args.baseline:
        raise InputError("--fail-under needs --baseline PREV.json (the run whose pass@1 it compares against)")
    if args.fail_under is not None and args.fail_under < 0:
        raise InputError("--fail-under must be >= 0")
    cfg = BenchConfig(suite=args.suite, model=args.model, out=args.out, samples=args.samples, rounds=args.rounds,
                      temperature=args.temperature, top_p=args.top_p, mode=args.mode, workers=args.workers,
                      executor=args.executor, address=args.address, limit=args.limit, problems=args.problems,
                      seed=args.seed, checks=args.checks, max_new_tokens=args.max_new_tokens,
                      model_options=_model_options(args.model_option))
    bars: list = []  # created at the first finished problem, so bad input prints one line only

    def progress(rec: dict, done: int, total: int) -> None:
        if args.no_progress:
            return
        if not bars:
            from tqdm import tqdm

            bars.append(tqdm(total=total, initial=done - 1, unit="problem", file=sys.stderr, dynamic_ncols=True))
        bars[0].set_postfix_str(f"{rec['problem'][-28:]} {rec['c']}/{rec['n']}", refresh=False)
        bars[0].update(1)

    try:
        result = run_bench(cfg, on_problem=progress)
    finally:
        for bar in bars:
            bar.close()
    paths = write_all(result, junit=args.junit)
    m = result.metrics
    scores = "  ".join(f"{k}={v:.4f}" for k, v in m["pass_at"].items())
    print(f"{result.protocol['suite']['name']} [{cfg.mode}] {cfg.model}: {m['passed_problems']}/{m['problems']} "
          f"problems passed  {scores}")
    print(f"report: {paths['markdown']}  json: {paths['json']}")
    if args.baseline:
        regressed, text = regression(result, args.baseline, args.fail_under or 0.0)
        print(("REGRESSION: " if regressed else "ok: ") + text, file=sys.stderr if regressed else sys.stdout)
        if regressed:
            return 1
    return 0
