"""The `circuit-muse` command: one module per subcommand, each with register() and run().

Exit codes: 0 success/pass, 1 the check failed, 2 bad usage or a missing tool. Only this package prints.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from ..errors import CircuitMuseError, InputError, ToolNotFound

# subcommand name -> module under circuit_muse.cli
SUBCOMMANDS: dict[str, str] = {
    "verify": "verify_cmd",
    "suites": "suites_cmd",
    "generate": "generate_cmd",
    "data": "data_cmd",
    "train": "train_cmd",
    "bench": "bench_cmd",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="circuit-muse", description="Verified Verilog generation.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log tool command lines (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True)
    for modname in SUBCOMMANDS.values():
        try:
            mod = importlib.import_module(f".{modname}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.endswith(modname):
                continue  # subcommand not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.func(args))
    except ToolNotFound as exc:
        print(f"circuit-muse: missing tool: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"circuit-muse: {exc}", file=sys.stderr)
        return 2
    except CircuitMuseError as exc:
        print(f"circuit-muse: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `circuit-muse suites | head`: the reader left, nothing more to say
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
