"""The `circuit-muse` command: one module per subcommand, each with register() and run().

Exit codes: 0 success/pass, 1 the check failed, 2 bad usage or a missing tool. Only this package prints.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import CircuitMuseError, InputError, ToolNotFound

# subcommand name -> module under circuit_muse.cli
SUBCOMMANDS: dict[str, str] = {
    "verify": "verify_cmd",
    "suites": "suites_cmd",
    "generate": "generate_cmd",
    "data": "data_cmd",
    "train": "train_cmd",
    "serve": "serve_cmd",
    "bench": "bench_cmd",
}


class _VersionAction(argparse.Action):
    """`--version`: the package and tool versions, computed only when asked (it runs each tool once)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kw: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the circuit-muse version and the versions of the tools it runs")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from ..about import version_text

        print(version_text())
        parser.exit(0)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong, and where help is) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="circuit-muse", description="Verified Verilog generation.")
    parser.add_argument("--version", action=_VersionAction)
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
    except ModuleNotFoundError as exc:  # an optional extra (torch, ...) that this command needs
        from .paths import missing_extra_text

        print(f"circuit-muse: {missing_extra_text(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `circuit-muse suites | head`: the reader left, nothing more to say
        sys.stderr.close()
        return 0
    except OSError as exc:  # a path the user gave that cannot be read or written
        print(f"circuit-muse: {_os_error_text(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _os_error_text(exc: OSError) -> str:
    """'cannot use out/r.xml: is a directory' rather than a traceback."""
    where = f" {exc.filename}" if exc.filename else ""
    reason = {IsADirectoryError: "is a directory", FileNotFoundError: "does not exist (or its folder does not)",
              PermissionError: "permission denied", NotADirectoryError: "a part of the path is not a folder"}
    why = next((text for kind, text in reason.items() if isinstance(exc, kind)), exc.strerror or str(exc))
    return f"cannot use{where}: {why}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
