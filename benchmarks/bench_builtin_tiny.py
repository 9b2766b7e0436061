"""One full builtin scoring run with the tiny test model (tests/support/tiny_models.py), kept in results/.

The tiny model has random weights, so it scores 0; the run shows the whole path (generation, repair
rounds, records, report, plots) end to end on a real local model. Swap --model for the shipped model
when it is on disk.

    .venv/bin/python benchmarks/bench_builtin_tiny.py [--out DIR | --update-results]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _results import add_output_args, output_dir  # noqa: E402 - benchmarks/ is the script's own folder

from circuit_muse.cli import main as cli_main  # noqa: E402
from tests.support.tiny_models import tiny_models  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_output_args(ap)
    args = ap.parse_args()
    out = output_dir(args, "bench_builtin_tiny", ap) / "bench_builtin_tiny"   # before any work
    model = tiny_models().qwen2
    return cli_main(["bench", "--suite", "builtin", "--model", f"hf:{model}", "--model-option", "device=cpu",
                     "--samples", "2", "--rounds", "2", "--temperature", "0.8", "--top-p", "0.95",
                     "--max-new-tokens", "48", "--out", str(out), "--no-progress"])


if __name__ == "__main__":
    sys.exit(main())
