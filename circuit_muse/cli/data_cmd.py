"""`circuit-muse data build|check|stats`: the verified training set.

    build   expand the sources by augmentation, verify every candidate, write the JSONL set and eval prompts
    check   re-verify every record (or a sample); exit 1 if anything fails
    stats   counts by task, stage, family and length
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from ..errors import InputError
from .paths import readable_file, writable_file
from .progress import progress_bar, say

TIER_HELP = "family suite tier: fast (vector replay), full (cocotb), both (fast then cocotb; default)"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("data", help="build, re-verify and describe the curated training set",
                       description="The simulator-verified training set (circuit_muse/data).")
    dsub = p.add_subparsers(dest="data_command", required=True)

    b = dsub.add_parser("build", help="expand the sources by augmentation, verify everything, write the set",
                        description="Build candidates (seed examples, parameter sweeps, paraphrases), verify each "
                                    "one, keep those that pass; failures are dropped and reported.")
    b.add_argument("--out", metavar="PATH", help="JSONL to write (default: the shipped set)")
    b.add_argument("--eval-out", metavar="PATH", help="eval prompts JSONL (default: the shipped file)")
    b.add_argument("--report", metavar="PATH", help="build report JSON (default: next to the shipped set)")
    b.add_argument("--seed", type=int, default=None, help="augmentation seed (default: the shipped set's)")
    b.add_argument("--workers", type=_positive, default=2, help="parallel verification processes (default 2)")
    b.add_argument("--tier", choices=["fast", "full", "both"], default="both", help=TIER_HELP)
    b.add_argument("--no-cache", action="store_true",
                   help="do not use the verification cache ($CIRCUIT_MUSE_CACHE_DIR when set)")
    b.add_argument("--json", action="store_true", help="print the build report as JSON")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar or per-candidate lines")
    b.set_defaults(func=run)

    c = dsub.add_parser("check", help="re-verify every record and report per-task/per-family pass counts",
                        description="Re-run every record's checks from scratch; exit status 1 if any fails.")
    c.add_argument("paths", nargs="*", metavar="JSONL", help="files to check (default: the shipped set)")
    c.add_argument("--workers", type=_positive, default=2, help="parallel verification processes (default 2)")
    c.add_argument("--tier", choices=["fast", "full", "both"], default="both", help=TIER_HELP)
    c.add_argument("--sample", type=_positive, metavar="N",
                   help="check a sample of N records spread over tasks and families (same --seed, same sample)")
    c.add_argument("--seed", type=int, default=0, help="which sample --sample draws (default 0)")
    c.add_argument("--id", action="append", default=[], metavar="ID", help="check only these record ids")
    c.add_argument("--task", choices=["generate", "debug", "explain", "assertion"], help="only this task")
    c.add_argument("--use-cache", action="store_true",
                   help="accept cached verdicts from $CIRCUIT_MUSE_CACHE_DIR (default: verify from scratch)")
    c.add_argument("--json", action="store_true", help="print results as JSON")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress bar or per-record lines")
    c.set_defaults(func=run)

    s = dsub.add_parser("stats", help="counts by task, stage, family and length")
    s.add_argument("paths", nargs="*", metavar="JSONL", help="files (default: the shipped set)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=run)


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {n}")
    return n


def run(args: argparse.Namespace) -> int:
    cmd = args.data_command
    if cmd == "build":
        return _build(args)
    if cmd == "check":
        return _check(args)
    if cmd == "stats":
        return _stats(args)
    raise InputError(f"unknown data subcommand {cmd!r}")  # pragma: no cover - argparse prevents it


def _paths(paths: list[str]) -> list[Path]:
    from ..data import DATASET_PATH

    return [readable_file(p, "data file") for p in paths] if paths else [DATASET_PATH]


def sample_records(records: list, n: int, seed: int = 0) -> list:
    """A sample spread over (task, family group): round-robin over the groups, each task's first.

    The same seed gives the same sample; another seed gives other records and another group order, so small
    samples drawn with changing seeds cover every group over time."""
    from ..data.check import family_key

    groups: dict[tuple[str, str], list] = {}
    for r in records:
        groups.setdefault((r.task, family_key(r.family)), []).append(r)
    rng = random.Random(seed)
    for g in groups.values():
        rng.shuffle(g)
    keys = sorted(groups)
    rng.shuffle(keys)
    leaders = list({k[0]: k for k in reversed(keys)}.values())  # each task's first group in shuffled order
    keys = leaders + [k for k in keys if k not in leaders]
    out: list = []
    while len(out) < min(n, len(records)):
        for k in keys:
            if groups[k] and len(out) < n:
                out.append(groups[k].pop())
    return out


def _build(args: argparse.Namespace) -> int:
    from ..data import build as B

    kw: dict = {}
    for flag, value in (("--out", args.out), ("--eval-out", args.eval_out), ("--report", args.report)):
        if value:
            writable_file(value, flag)  # before the build runs: a typo must not cost a 10-minute build
    if args.out:
        kw["out_path"] = Path(args.out)
        kw["eval_path"] = Path(args.eval_out) if args.eval_out else None
        kw["report_path"] = Path(args.report) if args.report else None
    else:
        if args.eval_out:
            kw["eval_path"] = Path(args.eval_out)
        if args.report:
            kw["report_path"] = Path(args.report)
    if args.seed is not None:
        kw["seed"] = args.seed
    t0 = time.monotonic()
    quiet = args.quiet or args.json
    bar = progress_bar(None, "verifying candidates", unit="cand", quiet=quiet)
    done = [0]

    def start(total: int) -> None:
        bar.reset(total=total)

    def progress(res) -> None:
        done[0] += 1
        bar.update(1)
        if quiet:
            return
        if not res.passed:
            say(bar, f"  dropped {res.id}: {'; '.join(res.problems)[:200]}")
        elif bar.disable and done[0] % 50 == 0:
            say(bar, f"  ... {done[0]} verified")

    try:
        report = B.build(workers=args.workers, tier=args.tier, use_cache=not args.no_cache, on_result=progress,
                         on_start=start, **kw)
    finally:
        bar.close()
    elapsed = time.monotonic() - t0
    if args.json:
        print(json.dumps({**report.to_dict(), "seconds": round(elapsed, 1)}, indent=1))
        return 0
    out = kw.get("out_path", B.DATASET_PATH)
    print(f"built {out}: {report.kept} of {report.candidates} candidates kept, "
          f"{len(report.dropped)} dropped, {report.eval_prompts} eval prompts ({elapsed:.0f}s)")
    for origin, c in sorted(report.by_origin.items()):
        print(f"  {origin:<11} {c['kept']:>4} kept of {c['candidates']}")
    for d in report.dropped:
        print(f"  dropped {d['id']} ({d['origin']}): {'; '.join(d['problems'])[:200]}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from ..data.check import check_records, summarize
    from ..train.records import read_records

    records = read_records(_paths(args.paths))
    if args.id:
        wanted = set(args.id)
        records = [r for r in records if r.id in wanted]
        missing = wanted - {r.id for r in records}
        if missing:
            raise InputError(f"no record with id {sorted(missing)[0]!r}")
    if args.task:
        records = [r for r in records if r.task == args.task]
    if args.sample:
        records = sample_records(records, args.sample, seed=args.seed)
    t0 = time.monotonic()
    quiet = args.quiet or args.json
    bar = progress_bar(len(records), "checking records", unit="rec", quiet=quiet)

    def progress(res) -> None:
        bar.update(1)
        if quiet or (res.passed and not bar.disable):  # on a terminal the bar stands for the passing ones
            return
        mark = "ok  " if res.passed else "FAIL"
        line = f"{mark} {res.id}  [{', '.join(res.checks)}]"
        if not res.passed:
            line += "\n       " + "\n       ".join(res.problems)
        say(bar, line)

    try:
        results = check_records(records, workers=args.workers, tier=args.tier, use_cache=args.use_cache,
                                on_result=progress)
    finally:
        bar.close()
    elapsed = time.monotonic() - t0
    summary = summarize(results)
    failed = [r for r in results if not r.passed]
    if args.json:
        print(json.dumps({"summary": summary, "seconds": round(elapsed, 1),
                          "failed": [r.to_dict() for r in failed]}, indent=1))
        return 1 if failed else 0
    print(f"checked {summary['total']} records in {elapsed:.0f}s: {summary['passed']} passed, "
          f"{len(failed)} failed")
    for key, title in (("by_task", "task"), ("by_family", "family"), ("by_stage", "stage")):
        print(f"by {title}:")
        for name, c in sorted(summary[key].items()):
            print(f"  {name:<12} {c['passed']:>4}/{c['total']:<4}")
    for r in failed:
        print(f"FAIL {r.id}: {'; '.join(r.problems)}")
    return 1 if failed else 0


def _stats(args: argparse.Namespace) -> int:
    from ..data.stats import stats
    from ..train.records import read_records

    s = stats(read_records(_paths(args.paths)))
    if args.json:
        print(json.dumps(s, indent=1))
        return 0
    print(f"{s['records']} records; {s['other_designs']} hand-written designs beyond the suite families; "
          f"{s['debug_with_input']} debug records, {s['assertion_fixes']} assertion fixes")
    for key in ("by_task", "by_stage", "by_family", "by_task_stage"):
        print(f"{key.replace('_', ' ')}:")
        for name, n in s[key].items():
            print(f"  {name:<20} {n:>4}")
    lc = s["length_chars"]
    print(f"length (characters, instruction+input+output): min {lc['min']}, median {lc['median']}, "
          f"p90 {lc['p90']}, max {lc['max']}, total {lc['total']}")
    print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(lc["buckets"].items(), key=lambda kv: kv[0])))
    return 0
