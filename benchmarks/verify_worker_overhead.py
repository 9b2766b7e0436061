"""What running every check in a worker process costs: verify() (worker) vs run_pipeline() in-process.

Same design and bench, interleaved, median of N; plus the first call of a fresh process (worker start).

    .venv/bin/python benchmarks/verify_worker_overhead.py [--n 15] [--out DIR | --update-results]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from _results import add_output_args, output_dir  # noqa: E402 - benchmarks/ is the script's own folder

import circuit_muse as cm
from circuit_muse.engine.pipeline import run_pipeline
from circuit_muse.testbench import ReferenceTestbench

REF = "module inv(input a, output y); assign y = ~a; endmodule\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=15)
    add_output_args(ap)
    args = ap.parse_args()
    out_dir = output_dir(args, "verify_worker_overhead", ap)  # before any work: a refused --out costs nothing
    tb = ReferenceTestbench(REF)
    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    cm.verify(REF + "// cold\n", testbench=tb, use_cache=False)
    cold = time.perf_counter() - t
    inproc, worker = [], []
    for i in range(args.n):
        t = time.perf_counter()
        run_pipeline(REF + f"// a{i}\n", testbench=tb)
        inproc.append(time.perf_counter() - t)
        t = time.perf_counter()
        cm.verify(REF + f"// b{i}\n", testbench=tb, use_cache=False)
        worker.append(time.perf_counter() - t)
    res = {"n": args.n, "first_call_s": cold, "in_process_median_s": statistics.median(inproc),
           "worker_median_s": statistics.median(worker),
           "overhead_median_s": statistics.median(worker) - statistics.median(inproc),
           "loadavg_1m_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)], "cpu_count": os.cpu_count()}
    (out_dir / "verify_worker_overhead.json").write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
