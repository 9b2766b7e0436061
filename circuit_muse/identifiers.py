"""Names that come from a design and may reach trusted text (a bench, a runner argument, a script).

Only plain ASCII Verilog identifiers qualify: an escaped identifier (`\\foo;bar `) is legal Verilog but
could carry code into a rendered bench, so it is data we refuse to paste anywhere.
"""
from __future__ import annotations

import re

from .errors import InputError

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def is_plain_identifier(name: object) -> bool:
    """True if `name` is a plain identifier: a letter or `_`, then letters, digits or `_` (at most 128)."""
    return isinstance(name, str) and _PLAIN.fullmatch(name) is not None


def require_plain_identifier(name: object, what: str) -> str:
    """Return `name` if it is plain, else raise InputError naming `what` (e.g. "top module")."""
    if not is_plain_identifier(name):
        raise InputError(f"{what} {name!r} is not a plain identifier (letters, digits and _, starting with a "
                         "letter or _); escaped identifiers cannot be used for names a testbench refers to")
    return name  # type: ignore[return-value]
