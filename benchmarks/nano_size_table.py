"""Pass rate against parameters for the nano sizes of one training run, from files already measured.

    python benchmarks/nano_size_table.py [--run run4] [--out DIR | --update-results]

Reads benchmarks/results/nano_train_<run>_<size>.json (training log: parameters, steps, tokens, loss) and
nano_eval_<run>_<size>.json (benchmarks/nano_eval.py through the real loop, 4 rounds x 4 samples, for
`--model hf:<that size's folder>`), and writes nano_sizes_<run>.json plus a markdown table on stdout.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _results import RESULTS_DIR, add_output_args, output_dir  # noqa: E402 - benchmarks/ is the script's own folder


def row(run: str, size: str) -> dict[str, Any] | None:
    """One size's training and eval numbers, or None when either file is missing."""
    train_f, eval_f = RESULTS_DIR / f"nano_train_{run}_{size}.json", RESULTS_DIR / f"nano_eval_{run}_{size}.json"
    if not (train_f.is_file() and eval_f.is_file()):
        return None
    t, e = json.loads(train_f.read_text()), json.loads(eval_f.read_text())
    held, ex = e["held_out"], e["examples"]
    by_family: dict[str, list[int]] = {}
    for r in held["rows"]:
        fam = r["id"].split("/")[1]
        by_family.setdefault(fam, [0, 0])
        by_family[fam][0] += int(r["passed"])
        by_family[fam][1] += 1
    return {"size": size, "params": t["params"], "steps": t["steps_done"], "tokens_seen": t["tokens_seen"],
            "train_s": t["train_s"], "val_loss": t["val"][-1]["val_loss"],
            "held_out_pass": sum(r["passed"] for r in held["rows"]), "held_out_prompts": len(held["rows"]),
            "held_out": held["summary"], "examples_pass": sum(r["passed"] for r in ex["rows"]),
            "examples_prompts": len(ex["rows"]), "examples": ex["summary"], "held_out_by_family": by_family}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="run4")
    ap.add_argument("--sizes", default="xs,s,m")
    add_output_args(ap)
    a = ap.parse_args(argv)
    out = output_dir(a, "nano_sizes", ap) / f"nano_sizes_{a.run}.json"
    rows = [r for s in a.sizes.split(",") if (r := row(a.run, s))]
    out.write_text(json.dumps({"run": a.run, "rows": rows}, indent=1) + "\n")
    print("| size | params | steps | tokens | held-out loop pass | pass@1 | examples | median s to verified |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        h = r["held_out"]
        print(f"| {r['size']} | {r['params'] / 1e6:.1f}M | {r['steps']} | {r['tokens_seen'] / 1e6:.1f}M | "
              f"{h['loop_pass_rate']:.1%} ({r['held_out_pass']}/{r['held_out_prompts']}) | {h['pass_at_1']:.1%} | "
              f"{r['examples_pass']}/{r['examples_prompts']} | {h['median_s_to_verified']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
