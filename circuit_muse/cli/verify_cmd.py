"""`circuit-muse verify FILE...`: check designs and print a report (text, --json, --junit)."""
from __future__ import annotations

import argparse
import json
import sys

from ..engine.options import VerifyOptions
from ..engine.pipeline import verify
from ..errors import InputError
from .exit_codes import EXIT_CODES_HELP, exit_code
from .junit import junit_xml
from .paths import readable_file, writable_dir, writable_file
from .render import render_text


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("verify", help="check Verilog files: lint, synth, and simulation against a testbench",
                       description="Check each FILE (raw model output is fine: code is extracted first).",
                       epilog=EXIT_CODES_HELP)
    p.add_argument("files", nargs="+", metavar="FILE", help="design file(s); '-' reads standard input")
    p.add_argument("--top", help="top module (default: the one nobody instantiates)")
    p.add_argument("--testbench", metavar="PATH", help="cocotb test module (.py) or self-checking Verilog bench")
    p.add_argument("--reference", metavar="PATH", help="reference design to compare against under random stimulus")
    p.add_argument("--suite", metavar="FAMILY[/VARIANT]", help="built-in suite (see `circuit-muse suites`)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="suite/design parameter")
    p.add_argument("--contract", metavar="JSON", help="interface contract file (module, ports, params)")
    p.add_argument("--simulator", choices=["icarus", "verilator"], default="icarus")
    p.add_argument("--continue", dest="continue_on_fail", action="store_true",
                   help="run every stage even after one fails")
    p.add_argument("--keep-waves", metavar="DIR", help="where to keep the waveform of a failing simulation "
                   "(default: $CIRCUIT_MUSE_WAVES_DIR or <tmp>/circuit_muse-waves)")
    p.add_argument("--together", action="store_true", help="treat all FILEs as one design (default: one each)")
    p.add_argument("--json", action="store_true", help="print JSON reports")
    p.add_argument("--junit", metavar="PATH", help="also write JUnit XML for CI systems")
    p.set_defaults(func=run)


def _params(items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise InputError(f"--param {item!r}: expected NAME=VALUE, e.g. --param DEPTH=16")
        try:
            out[name] = int(value, 0)
        except ValueError:
            raise InputError(f"--param {item!r}: VALUE must be an integer") from None
    return out


def run(args: argparse.Namespace) -> int:
    from ..contract import Contract
    from ..testbench import ReferenceTestbench, load_testbench

    params = _params(args.param)
    junit = writable_file(args.junit, "--junit") if args.junit else None
    if args.keep_waves:
        writable_dir(args.keep_waves, "--keep-waves")
    for f in args.files:
        if f != "-":
            readable_file(f, "design file")
    chosen = [x for x in (args.testbench, args.reference, args.suite) if x]
    if len(chosen) > 1:
        raise InputError("choose one of --testbench, --reference and --suite")
    testbench = None
    contract = None
    if args.testbench:
        testbench = load_testbench(readable_file(args.testbench, "testbench"))
    elif args.reference:
        testbench = ReferenceTestbench(readable_file(args.reference, "reference").read_text(errors="replace"))
    elif args.suite:
        from ..suites import get_suite

        family, _, variant = args.suite.partition("/")
        testbench = get_suite(family, variant or None, params)
        contract = testbench.contract
    if args.contract:
        cpath = readable_file(args.contract, "contract")
        try:
            contract = Contract.from_dict(json.loads(cpath.read_text()))
        except (OSError, ValueError, TypeError, KeyError) as exc:  # JSONDecodeError is a ValueError
            raise InputError(f"cannot read contract {cpath}: {exc}") from exc
    options = {"continue_on_fail": args.continue_on_fail, "simulator": args.simulator,
               "params": {} if args.suite else params}
    if args.keep_waves:
        options["keep_vcd_dir"] = args.keep_waves
    groups: list[tuple[str, str]] = []
    if args.together:
        groups.append((" + ".join(args.files), "\n".join(_read(f) for f in args.files)))
    else:
        groups = [(f, _read(f)) for f in args.files]
    opts = VerifyOptions.from_mapping(options)
    if args.suite:
        opts = testbench.verify_options(opts)  # e.g. the assertion family lints with Verilator only
    reports = []
    for name, text in groups:
        reports.append((name, verify(text, top=args.top, contract=contract, testbench=testbench, options=opts)))
    if args.json:
        payload = [dict(file=n, **r.to_dict()) for n, r in reports]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    else:
        for name, rep in reports:
            print(render_text(rep, name))
    if junit:
        junit.write_text(junit_xml(reports))
    return exit_code(r.level for _, r in reports)


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    return readable_file(path, "design file").read_text(errors="replace")
