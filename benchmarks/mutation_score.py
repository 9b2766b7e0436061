"""Mutation score of the reference suites, per family (issue 3 target: >= 95% of non-equivalent mutants killed
in every family).

For each family, several representative variants (small parameters, so corners are reachable and Yosys
equivalence proofs stay cheap) have their reference RTL mutated (circuit_muse.suites.mutate). Every mutant runs
through the suite (tier "both": vector replay first, the cocotb suite for anything that passes; the assertion
family runs its Verilator bench). Survivors go to Yosys for an equivalence proof; only proved mutants are
excluded. Mutants that do not compile with the bench are "invalid" and not counted.

    .venv/bin/python benchmarks/mutation_score.py [--families counter,fifo] [--tier both|fast] [--no-assertion]
Writes mutation_score.json and .md to a fresh out/benchmarks/ folder, --out DIR, or (with
--update-results) benchmarks/results/.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time

from _results import add_output_args, output_dir

from circuit_muse.cli.progress import progress_bar
from circuit_muse.suites import get_suite
from circuit_muse.suites.mutate import score

VARIANTS: dict[str, list[tuple[str | None, dict[str, int]]]] = {
    "register": [("reg-en-async-low", {"WIDTH": 4}), ("shift-en-sync-high", {"WIDTH": 4}),
                 ("reg-noen-sync-high", {"WIDTH": 1})],
    "counter": [("updown-en-load-wrap-async-high", {"WIDTH": 4}), ("up-en-noload-sat-sync-low", {"WIDTH": 4}),
                ("down-en-load-mod-sync-high", {"WIDTH": 4, "MODULO": 10}), ("up-noen-noload-wrap-sync-low", {"WIDTH": 4}),
                ("updown-noen-noload-sat-async-low", {"WIDTH": 3})],
    "fifo": [("reg-count-almost-sync-low", {"DEPTH": 4, "WIDTH": 4}),
             ("fwft-count-almost-async-high", {"DEPTH": 8, "WIDTH": 4}), ("reg-nocount-noalmost-sync-low", {"DEPTH": 8, "WIDTH": 8})],
    "async_fifo": [(None, {"DEPTH": 4, "WIDTH": 4}), (None, {"DEPTH": 8, "WIDTH": 8})],
    "arbiter": [("rr-reg-sync-low", {"N": 4}), ("rr-comb-async-high", {"N": 3}), ("fixed-comb-sync-low", {"N": 4}),
                ("fixed-reg-sync-low", {"N": 4})],
    "axi_lite": [(None, {"ADDR_WIDTH": 5, "N_REGS": 4})],
    "assertion": [("valid_hold", {}), ("data_stable", {"WIDTH": 4}), ("onehot", {"N": 4})],
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", default=",".join(VARIANTS))
    ap.add_argument("--tier", default="both", choices=["fast", "both", "full"])
    ap.add_argument("--no-assertion", action="store_true", help="skip the Verilator-built assertion family")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_output_args(ap)
    args = ap.parse_args(argv)
    out = output_dir(args, "mutation_score", ap) / "mutation_score"
    fams = [f for f in args.families.split(",") if f and not (args.no_assertion and f == "assertion")]
    t0 = time.monotonic()
    per_family = {}
    for fam in fams:
        runs = []
        for variant, params in VARIANTS[fam]:
            t = time.monotonic()
            with progress_bar(None, f"{fam}/{variant or 'default'}", unit="mutant", quiet=args.quiet,
                              leave=False) as bar:
                def advance(done: int, total: int, bar=bar) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                r = score(get_suite(fam, variant, params), tier=args.tier, on_progress=advance)
            r["seconds"] = round(time.monotonic() - t, 2)
            runs.append(r)
            print(f"{fam:11s} {r['variant']:36s} mutants={r['mutants']:3d} killed={r['killed']:3d} "
                  f"survived={r['survived']:2d} equivalent={r['equivalent']:2d} invalid={r['invalid']:2d} "
                  f"score={r['score']:.3f} ({r['seconds']}s)", flush=True)
        tot = {k: sum(r[k] for r in runs) for k in ("mutants", "killed", "survived", "equivalent", "invalid")}
        denom = tot["killed"] + tot["survived"]
        per_family[fam] = {**tot, "score": tot["killed"] / denom if denom else 1.0, "variants": runs}
    ok = all(v["score"] >= 0.95 for v in per_family.values())
    result = {"benchmark": "mutation_score", "target": ">= 0.95 of non-equivalent mutants killed in every family",
              "tier": args.tier, "met": ok, "seconds": round(time.monotonic() - t0, 1),
              "python": platform.python_version(), "machine": platform.machine(),
              "families": per_family}
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Mutation score of the reference suites", "",
             f"Tier `{args.tier}`; target >= 95% of non-equivalent mutants killed in every family; "
             f"met: **{ok}**; {result['seconds']} s on {platform.machine()} (2 shared cores).", "",
             "| family | mutants | killed | survived | equivalent (proved) | invalid | score |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for fam, v in per_family.items():
        lines.append(f"| {fam} | {v['mutants']} | {v['killed']} | {v['survived']} | {v['equivalent']} | "
                     f"{v['invalid']} | {v['score']:.3f} |")
    lines += ["", "Equivalent = proved by Yosys (`equiv_make/equiv_simple/equiv_induct`, or a miter with "
              "`sat -tempinduct`); only proved mutants leave the denominator. Invalid = does not compile.", "",
              "## Survivors", ""]
    for fam, v in per_family.items():
        for r in v["variants"]:
            for s in r["survivors"]:
                if s["status"] == "survived":
                    lines.append(f"- {fam}/{r['variant']}: {s['operator']} line {s['line']}: {s['description']} "
                                 f"(`{s.get('source_line', '')}`) - {s.get('equivalence', '')}")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"mutation score: {'all families >= 0.95' if ok else 'TARGET MISSED'} "
          + ", ".join(f"{f}={v['score']:.3f}" for f, v in per_family.items()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
