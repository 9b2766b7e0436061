"""Load on `circuit-muse serve`: N concurrent clients (1, 8, 32) with the scripted model, over real HTTP.

Per N: /verify requests per second and p50/p99 latency (unique designs, so no cache hits), whole jobs
(POST /jobs, then follow /jobs/{id}/events to `done`) per second and p50/p99, 429s seen (clients honour
Retry-After), and that no job was lost or duplicated (counted in the server's SQLite: one row and one
terminal event per accepted job). Memory: RSS of the server's process tree at rest and its peak under load.
Baseline in the same run: verify() of the same kind of design called directly in this process, so the
/verify numbers read as a ratio (HTTP + queueing overhead over the engine's own time).

    .venv/bin/python benchmarks/service_load.py [--clients 1,8,32] [--verifies 2] [--out PATH]
"""
from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from circuit_muse.engine.pipeline import verify  # noqa: E402
from tests.service_support import WIRE_PROMPT, ServeProcess, sse_events, three_rounds  # noqa: E402
from tests.support.scripted_openai import ScriptedOpenAIServer  # noqa: E402

DESIGN = "module adder_{n}(input wire [7:0] a, input wire [7:0] b, output wire [8:0] y);\n" \
         "    assign y = a + b + 9'd{k};\nendmodule\n"
_counter = iter(range(10**9))
_lock = threading.Lock()


def unique_design() -> str:
    with _lock:
        n = next(_counter)
    return DESIGN.format(n=n, k=n % 256)


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


def tree_rss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


class PeakRss(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self.stop.wait(0.2)


def post_with_retry(c: httpx.Client, path: str, body: dict[str, Any], seen_429: list[int]) -> httpx.Response:
    while True:
        r = c.post(path, json=body)
        if r.status_code != 429:
            return r
        seen_429.append(1)
        time.sleep(min(5.0, float(r.headers.get("retry-after", "1"))))


def verify_phase(url: str, clients: int, per_client: int) -> dict[str, Any]:
    lat: list[float] = []
    errors: list[str] = []
    seen_429: list[int] = []

    def client() -> None:
        with httpx.Client(base_url=url, timeout=300) as c:
            for _ in range(per_client):
                t = time.perf_counter()
                r = post_with_retry(c, "/verify", {"verilog": unique_design()}, seen_429)
                lat.append(time.perf_counter() - t)
                if r.status_code != 200 or not r.json().get("passed"):
                    errors.append(r.text[:200])

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda _: client(), range(clients)))
    wall = time.perf_counter() - t0
    return {"requests": len(lat), "req_per_s": len(lat) / wall, "p50_s": pct(lat, 50), "p99_s": pct(lat, 99),
            "errors": len(errors), "http_429": len(seen_429), "wall_s": wall}


def job_phase(url: str, clients: int) -> dict[str, Any]:
    lat: list[float] = []
    ids: list[str] = []
    states: list[str] = []
    seen_429: list[int] = []

    def client(i: int) -> None:
        with httpx.Client(base_url=url, timeout=300) as c:
            t = time.perf_counter()
            r = post_with_retry(c, "/jobs", {"prompt": f"{WIRE_PROMPT} (client {i})", "samples": 1}, seen_429)
            job_id = r.json()["id"]
            ids.append(job_id)
            last = list(sse_events(c, f"/jobs/{job_id}/events"))[-1]
            lat.append(time.perf_counter() - t)
            states.append(last["data"]["data"]["state"])

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    wall = time.perf_counter() - t0
    return {"jobs": len(lat), "jobs_per_s": len(lat) / wall, "p50_s": pct(lat, 50), "p99_s": pct(lat, 99),
            "passed": states.count("passed"), "http_429": len(seen_429), "wall_s": wall, "ids": ids}


def db_audit(db: Path, ids: list[str]) -> dict[str, Any]:
    con = sqlite3.connect(db)
    try:
        rows = {r[0]: r[1] for r in con.execute(
            f"SELECT id, state FROM jobs WHERE id IN ({','.join('?' * len(ids))})", ids)}
        dones = dict(con.execute(f"SELECT job_id, COUNT(*) FROM events WHERE type='done' AND job_id IN "
                                 f"({','.join('?' * len(ids))}) GROUP BY job_id", ids).fetchall())
        total = con.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    finally:
        con.close()
    return {"accepted": len(ids), "distinct_ids": len(set(ids)), "rows_found": len(rows),
            "one_done_each": all(dones.get(i) == 1 for i in ids), "jobs_in_db": total,
            "lost": len(set(ids) - set(rows)), "duplicated": len(ids) - len(set(ids))}


def baseline_verify(n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        verify(unique_design(), use_cache=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--verifies", type=int, default=2, help="/verify requests per client")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "service_load"),
                    help="results path without extension (.json and .md are written)")
    args = ap.parse_args()
    levels = [int(x) for x in args.clients.split(",")]
    base = baseline_verify(5)
    results: dict[str, Any] = {"machine": f"{platform.machine()}, {psutil.cpu_count()} cores",
                               "baseline_inprocess_verify_p50_s": base, "levels": []}
    with tempfile.TemporaryDirectory() as tmp, ScriptedOpenAIServer(three_rounds) as model:
        db = Path(tmp) / "jobs.sqlite3"
        with ServeProcess(model.spec(), db, extra=["--workers", "2", "--queue", "16"]) as srv:
            time.sleep(1.0)
            httpx.post(srv.url + "/verify", json={"verilog": unique_design()}, timeout=120)  # warm the tools
            job_phase(srv.url, 1)  # and the job path (its forkserver starts on the first job)
            results["rss_at_rest_mib"] = tree_rss(srv.proc.pid) / 2**20
            all_ids: list[str] = []
            for n in levels:
                peak = PeakRss(srv.proc.pid)
                peak.start()
                ver = verify_phase(srv.url, n, args.verifies)
                jobs = job_phase(srv.url, n)
                peak.stop.set()
                peak.join()
                all_ids += jobs.pop("ids")
                audit = db_audit(db, all_ids)
                row = {"clients": n, "verify": ver, "jobs": jobs, "audit": audit, "peak_rss_mib": peak.peak / 2**20,
                       "verify_p50_ratio_to_inprocess": ver["p50_s"] / base}
                results["levels"].append(row)
                print(f"N={n:>2}: /verify {ver['req_per_s']:.2f} req/s p50 {ver['p50_s']:.3f}s p99 {ver['p99_s']:.3f}s"
                      f" | jobs {jobs['jobs_per_s']:.2f}/s p50 {jobs['p50_s']:.2f}s p99 {jobs['p99_s']:.2f}s"
                      f" 429s {jobs['http_429'] + ver['http_429']} | lost {audit['lost']} dup {audit['duplicated']}"
                      f" | peak RSS {row['peak_rss_mib']:.0f} MiB", file=sys.stderr)
            results["rss_after_mib"] = tree_rss(srv.proc.pid) / 2**20
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    lines = ["# circuit-muse serve under load (scripted model, real uvicorn on loopback)", "",
             f"{results['machine']}; server `--workers 2 --queue 16`; /verify: {args.verifies} unique lint+synth "
             "designs per client; jobs: one per client (scripted model, lint+synth, one round). Clients honour "
             "429 Retry-After (capped at 5 s).", "",
             "| clients | /verify req/s | /verify p50 | /verify p99 | p50 / in-process verify() | jobs/s | job p50 | "
             "job p99 | 429s | jobs lost | duplicated | one `done` each | peak RSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["levels"]:
        v, j, a = r["verify"], r["jobs"], r["audit"]
        lines.append(f"| {r['clients']} | {v['req_per_s']:.2f} | {v['p50_s']:.3f} s | {v['p99_s']:.3f} s | "
                     f"{r['verify_p50_ratio_to_inprocess']:.2f}x | {j['jobs_per_s']:.2f} | {j['p50_s']:.2f} s | "
                     f"{j['p99_s']:.2f} s | {v['http_429'] + j['http_429']} | {a['lost']} | {a['duplicated']} | "
                     f"{a['one_done_each']} | {r['peak_rss_mib']:.0f} MiB |")
    lines += ["", f"In-process verify() of the same kind of design (baseline, this run): "
                  f"{base:.3f} s median.", f"Server process tree RSS at rest: {results['rss_at_rest_mib']:.0f} MiB; "
                  f"after the load: {results['rss_after_mib']:.0f} MiB.", "",
              "Reproduce: `.venv/bin/python benchmarks/service_load.py` (2 shared cores here: other work ran "
              "beside it, so read the ratios, not the absolute seconds)."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(out.with_suffix(".md").read_text())
    bad = [r for r in results["levels"] if r["audit"]["lost"] or r["audit"]["duplicated"] or not r["audit"]["one_done_each"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
