"""Checks on the paths a user passes, made before any work starts, so a typo never costs a finished run."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError


def readable_file(path: str, what: str) -> Path:
    """The path as a Path if it is a file we can read; else InputError saying what is wrong with it."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{what} {path!r} is a directory, not a file")
    if not p.exists():
        raise InputError(f"{what} {path!r} does not exist")
    if not os.access(p, os.R_OK):
        raise InputError(f"{what} {path!r} is not readable (permission denied)")
    return p


def writable_file(path: str, what: str) -> Path:
    """The path as a Path if a file can be written there; else InputError (checked before the work runs)."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{what} {path!r} is a directory; give a file name, e.g. {os.path.join(path, 'out')}")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{what} {path!r}: folder {str(parent)!r} does not exist; create it first")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise InputError(f"{what} {path!r} cannot be written (permission denied)")
    return p


def writable_dir(path: str, what: str) -> Path:
    """A folder we can create or write into."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"{what} {path!r} is a file, not a folder")
    probe = p
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        raise InputError(f"{what} {path!r} cannot be created or written (permission denied)")
    return p


# Top-level modules that only the optional extras bring, and the extra that brings each.
EXTRA_OF = {"torch": "hf", "transformers": "hf", "peft": "hf", "accelerate": "hf", "tokenizers": "hf",
            "safetensors": "hf", "bitsandbytes": "train"}


def missing_extra_text(exc: ModuleNotFoundError) -> str:
    """'this needs the [hf] extra (torch is not installed): pip install "circuit-muse[hf]"'."""
    top = (exc.name or "").split(".")[0]
    extra = EXTRA_OF.get(top)
    if extra is None:
        return f"a Python package is missing ({exc}); reinstall circuit-muse: pip install -e ."
    return f'this needs the [{extra}] extra ({top} is not installed): pip install "circuit-muse[{extra}]"'
