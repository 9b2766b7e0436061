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
from .paths import readable_file, writable_dir, writable_file


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
    p.add_argument("--keep-waves", metavar="DIR", help="keep the waveform of the final failing candidate here")
    p.add_argument("-v", "--verbose", dest="full_feedback", action="store_true",
                   help="show the feedback sent to the model in full, failing-cycle table included "
                        "(`circuit-muse -v generate` also logs tool command lines)")
    p.set_defaults(func=run)


class _Progress:
    """Live progress on stderr: the round, a tick per stage of each candidate as it finishes, its verdict, and
    the feedback sent back (its first line; all of it, failing-cycle table included, with -v).

    Stage events of candidates verified in parallel may interleave: a line is labelled with its candidate and a
    new line starts whenever the candidate changes, so every tick lands on the right candidate's line.
    """

    def __init__(self, stream=sys.stderr, *, full_feedback: bool = False) -> None:  # type: ignore[no-untyped-def]
        self.out = stream
        self.tokens = 0
        self.full_feedback = full_feedback
        self.current: int | None = None    # the candidate whose line is open

    def _line_for(self, index: int) -> None:
        if self.current != index:
            self.out.write(f"\n  candidate {index}: ")
            self.current = index

    def __call__(self, e: Event) -> None:
        d = e.data
        if e.type == "round_started":
            self.tokens = 0
            self.current = None
            self.out.write(f"round {e.round}: generating {d['samples']} candidate(s) ")
        elif e.type == "token":
            self.tokens += 1
            if self.tokens % 64 == 0:
                self.out.write(".")
        elif e.type == "stage" and not d["skipped"]:
            self._line_for(d["index"])
            self.out.write(f"{d['stage']} {'✓' if d['passed'] else '✗'} ")
        elif e.type == "candidate":
            self._line_for(d["index"])
            self.out.write(f"-> {'PASS' if d['passed'] else d['category']} (score {d['score']:.2f})"
                           f"{' cached' if d['cached'] else ''}")
            self.current = None             # the next event of this candidate starts a fresh line
        elif e.type == "feedback":
            lines = d["text"].splitlines() if d["text"] else [""]
            if self.full_feedback:
                self.out.write("\n  feedback sent:\n" + "".join(f"    | {ln}\n" for ln in lines))
            else:
                more = f"  (+{len(lines) - 1} more lines: -v shows them)" if len(lines) > 1 else ""
                self.out.write(f"\n  feedback sent: {lines[0]}{more}\n")
            self.current = None
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
    if args.output:
        writable_file(args.output, "-o/--output")  # before the model runs, so a typo never costs a generation
    if args.testbench:
        readable_file(args.testbench, "testbench")
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if args.keep_waves:
        writable_dir(args.keep_waves, "--keep-waves")
    progress = None if (args.json or args.quiet) else _Progress(full_feedback=args.full_feedback or args.verbose >= 1)
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
                               max_seconds=args.max_seconds, max_new_tokens=args.max_new_tokens,
                               options={"keep_vcd_dir": args.keep_waves} if args.keep_waves else None)
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
        sim_stage = result.report.stage("simulate") if result.report and not result.passed else None
        sim = sim_stage.simulation if sim_stage else None
        if sim is not None and sim.vcd_path:
            print(f"// waveform of the failing run: {sim.vcd_path} (open it with: gtkwave {sim.vcd_path})",
                  file=sys.stderr)
    if result.task == "explain":
        return EXIT_FAIL  # prose is never verified
    return exit_code([result.level])
