"""Cost of the async FIFO's clock-domain-crossing check (Yosys netlist + waveform of the fast bench).

Runs the fast tier on the Gray reference with the check on, then with it off (no crossings found, so no VCD
is dumped or read), alternating, in the same process; reports the median time of each and their ratio.

    .venv/bin/python benchmarks/cdc_check_cost.py [--runs 7] [--out benchmarks/results/cdc_check_cost]
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from unittest import mock

from circuit_muse.suites import cdc, get_suite, run_suite


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "cdc_check_cost"))
    args = ap.parse_args(argv)
    rows = {}
    for params in ({"DEPTH": 16, "WIDTH": 8}, {"DEPTH": 4, "WIDTH": 4}):
        suite = get_suite("async_fifo", None, params, tier="fast")
        ref = suite.reference_rtl()
        run_suite(suite, ref)  # warm caches (stimulus plan, rendered bench, imports)
        on, off = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            assert run_suite(suite, ref).passed
            on.append(time.perf_counter() - t)
            with mock.patch.object(cdc, "crossings", lambda *a, **k: []):
                t = time.perf_counter()
                assert run_suite(suite, ref).passed
                off.append(time.perf_counter() - t)
        key = f"DEPTH={params['DEPTH']},WIDTH={params['WIDTH']}"
        rows[key] = {"with_check_ms": round(1000 * statistics.median(on), 1),
                     "without_check_ms": round(1000 * statistics.median(off), 1),
                     "ratio": round(statistics.median(on) / statistics.median(off), 2), "runs": args.runs}
        print(f"{key}: fast tier {rows[key]['with_check_ms']} ms with the check, {rows[key]['without_check_ms']} ms "
              f"without ({rows[key]['ratio']}x)", flush=True)
    out = {"machine": platform.platform(), "cpus": __import__("os").cpu_count(), "rows": rows}
    Path(args.out + ".json").write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
