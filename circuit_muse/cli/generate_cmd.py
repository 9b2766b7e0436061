"""`circuit-muse generate "PROMPT"`: generate, verify, repair; print live progress and the verified code."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import InputError
from ..loop import generate_verified
from ..loop.events import Event
from ..models.registry import get_model
from ..report import STATIC_VERDICT
from .exit_codes import EXIT_CODES_HELP, EXIT_FAIL, exit_code


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("generate", help="generate Verilog from a prompt and repair it until it verifies",
                       description="Generate Verilog for PROMPT, verify every candidate, feed failures back to "
                                   "the model, and print the best design. Exit 0 only if it passed.",
                       epilog=EXIT_CODES_HELP)
    p.add_argument("prompt", help="what to build, in plain English (use '-' to read it from stdin)")
    p.add_argument("--model", help="hf:PATH or openai:BASE_URL#MODEL (default: $CIRCUIT_MUSE_MODEL)")
    p.add_argument("--model-option", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option, e.g. device=cpu, quantization=nf4, base_model=PATH, timeout_s=60")
    p.add_argument("--testbench", metavar="PATH", help="cocotb module or self-checking Verilog bench "
                                                        "(replaces the matched family suite)")
    p.add_argument("--rounds", type=int, default=4, help="repair rounds (default 4)")
    p.add_argument("--samples", type=int, default=4, help="candidates per round (default 4)")
    p.add_argument("--temperature", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--max-new-tokens", type=int, default=1536)
    p.add_argument("--max-tokens", type=int, help="stop after this many completion tokens in total")
    p.add_argument("--max-seconds", type=float, help="stop after this much wall time")
    p.add_argument("--task", choices=["generate", "debug", "assertion", "explain"], help="override the task kind")
    p.add_argument("-o", "--output", metavar="FILE", help="write the verified design here")
    p.add_argument("--json", action="store_true", help="print the whole result as JSON (no live progress)")
    p.add_argument("--quiet", action="store_true", help="no live progress")
    p.set_defaults(func=run)


class _Progress:
    """Live progress on stderr: the round, a tick per stage of each candidate, and its verdict."""

    def __init__(self, stream=sys.stderr) -> None:  # type: ignore[no-untyped-def]
        self.out = stream
        self.tokens = 0

    def __call__(self, e: Event) -> None:
        d = e.data
        if e.type == "round_started":
            self.tokens = 0
            self.out.write(f"round {e.round}: generating {d['samples']} candidate(s) ")
        elif e.type == "token":
            self.tokens += 1
            if self.tokens % 64 == 0:
                self.out.write(".")
        elif e.type == "stage" and not d["skipped"]:
            if d["stage"] == "extract":
                self.out.write(f"\n  candidate {d['index']}: ")
            self.out.write(f"{d['stage']} {'✓' if d['passed'] else '✗'} ")
        elif e.type == "candidate":
            self.out.write(f"-> {'PASS' if d['passed'] else d['category']} (score {d['score']:.2f})"
                           f"{' cached' if d['cached'] else ''}")
        elif e.type == "feedback":
            first = d["text"].splitlines()[0] if d["text"] else ""
            self.out.write(f"\n  feedback sent: {first}\n")
        elif e.type == "done":
            self.out.write(f"\n{'PASSED' if d['passed'] else 'NOT PASSED'} after {e.round} round(s) ({d['reason']})\n")
        self.out.flush()


def _model_options(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--model-option {item!r}: expected KEY=VALUE, e.g. --model-option device=cpu")
        out[key] = value
    return out


def run(args: argparse.Namespace) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    progress = None if (args.json or args.quiet) else _Progress()
    model = get_model(args.model, **_model_options(args.model_option))

    def on_event(e: Event) -> None:  # what will be checked is said before round 1; a warning even with --quiet
        if e.type == "match":
            if not args.json and (not args.quiet or e.data.get("mode") == "static" or e.data.get("unsure")):
                print(f"// {e.data['line']}", file=sys.stderr, flush=True)
        elif progress is not None:
            progress(e)

    result = generate_verified(prompt, model=model, testbench=args.testbench, max_rounds=args.rounds,
                               samples=args.samples, temperature=args.temperature, seed=args.seed,
                               on_event=on_event, task=args.task, max_tokens=args.max_tokens,
                               max_seconds=args.max_seconds, max_new_tokens=args.max_new_tokens)
    if args.output and result.verilog:
        Path(args.output).write_text(result.verilog)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    elif result.task == "explain":
        print(result.text)
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
    else:
        if result.spec:
            print(f"// matched: {result.spec.get('family')}/{result.spec.get('variant')}", file=sys.stderr)
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        print(result.verilog or "// no Verilog was produced", end="" if (result.verilog or "").endswith("\n") else "\n")
        if result.passed:
            status = "verified: PASS"
        elif result.level == "static":
            status = f"{STATIC_VERDICT} (lint and synthesis only; unverified)"
        else:
            status = f"NOT verified: {result.report.category.value if result.report else 'no code'}"
        print(f"// {status}; {result.rounds_used} round(s), {result.completion_tokens} tokens, "
              f"{result.total_s:.1f}s", file=sys.stderr)
    if result.task == "explain":
        return EXIT_FAIL  # prose is never verified
    return exit_code([result.level])
