"""`circuit-muse suites`: list the reference suites (families, axes, presets and their contracts)."""
from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("suites", help="list the reference testbench suites and their contracts",
                              description="List suite families, their variant axes, presets and contracts. "
                                          "Use `--family F --variant V --param K=V` to print one Spec in full, "
                                          "or `--match PROMPT` to see which suite a prompt selects.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--family", help="show one family (with --variant/--param: one Spec and its prompt text)")
    p.add_argument("--variant", help="variant tokens or a preset, e.g. updown-load-async")
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="parameter override (repeatable)")
    p.add_argument("--match", metavar="PROMPT", help="match a plain-English prompt to a suite")
    p.add_argument("--reference", action="store_true", help="with --family: print the reference RTL")
    p.set_defaults(func=run)


def parse_params(items: list[str]) -> dict[str, int]:
    from ..errors import InputError

    out: dict[str, int] = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param expects KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = int(val.strip(), 0)
        except ValueError as exc:
            raise InputError(f"--param {key}: {val!r} is not an integer") from exc
    return out


def run(args: argparse.Namespace) -> int:
    from ..suites import get_suite, list_suites, match

    if args.match:
        m = match(args.match)
        if args.json:
            print(json.dumps(m.to_dict() if m else None, indent=2))
        elif m is None:
            print("no suite matches this prompt: only lint and synthesis would run (no functional test)")
        else:
            print(f"{m.family} / {m.variant} {m.params} (confidence {m.confidence:.2f})")
            for w in m.why:
                print(f"  - {w}")
        return 0 if m else 1
    if args.family and (args.variant or args.param or args.reference):
        suite = get_suite(args.family, args.variant, parse_params(args.param))
        if args.reference:
            print(suite.reference_rtl(), end="")
        elif args.json:
            print(json.dumps(suite.spec.to_dict(), indent=2))
        else:
            print(f"# {suite.family} / {suite.variant} {suite.params}\n")
            print(suite.spec.prompt_text())
        return 0
    data = list_suites()
    if args.family:
        data = [d for d in data if d["family"] == get_suite(args.family).family]
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for fam in data:
        print(f"{fam['family']}: {fam['summary']}")
        for a in fam["axes"]:
            print(f"  axis {a['name']}: {' | '.join(a['values'])} (default {a['default']}) - {a['help']}")
        params = ", ".join(f"{k}={v['default']}" for k, v in fam["params"].items())
        print(f"  params: {params}" + ("  (required as HDL parameters)" if fam["parameterized_by_default"] else ""))
        for v in fam["variants"]:
            ports = ", ".join(f"{p['direction'][:3]} {p['name']}" + (f"[{p['width']}]" if p["width"] > 1 else "")
                              for p in v["contract"]["ports"])
            print(f"  - {v['name']} ({v['variant']}): module {v['contract']['module']}({ports})")
        print()
    return 0
