"""Where a benchmark writes its results: a fresh folder unless told otherwise.

    (default)          out/benchmarks/<name>-<UTC time>/ : a new folder each run (git ignores out/)
    --out DIR          DIR (created if needed); DIR may not be benchmarks/results/ unless --update-results
    --update-results   benchmarks/results/, replacing the committed numbers: only for a complete, deliberate run

A partial or exploratory run therefore never overwrites the committed results.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
FRESH_ROOT = Path(__file__).resolve().parent.parent / "out" / "benchmarks"


def add_output_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--out", metavar="DIR", type=Path, default=None,
                    help="folder for the result files (default: a fresh out/benchmarks/<name>-<time>/)")
    ap.add_argument("--update-results", action="store_true",
                    help="write into benchmarks/results/, replacing the committed results")


def output_dir(args: argparse.Namespace, name: str, ap: argparse.ArgumentParser | None = None) -> Path:
    """The folder this run writes to (created). Exits with a usage error for --out benchmarks/results/ alone."""
    def refuse(msg: str) -> None:
        if ap is not None:
            ap.error(msg)
        raise SystemExit(f"{name}: {msg}")

    if args.update_results:
        if args.out is not None and Path(args.out).resolve() != RESULTS_DIR:
            refuse("--update-results writes benchmarks/results/; drop --out or --update-results")
        out = RESULTS_DIR
    elif args.out is not None:
        out = Path(args.out)
        if out.resolve() == RESULTS_DIR or RESULTS_DIR in out.resolve().parents:
            refuse(f"--out {out} is the committed results folder; add --update-results to replace them")
        if out.exists() and not out.is_dir():
            refuse(f"--out {out} is a file; give a folder")
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        out = FRESH_ROOT / f"{name}-{stamp}"
        n = 1
        while out.exists():
            n += 1
            out = FRESH_ROOT / f"{name}-{stamp}-{n}"
    out.mkdir(parents=True, exist_ok=True)
    return out
