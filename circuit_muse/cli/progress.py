"""Progress bars for long CLI work (tqdm): counts, rate and ETA on a terminal; silent in logs and with --quiet."""
from __future__ import annotations

import sys
from typing import IO, Any

from tqdm import tqdm


def bar_enabled(quiet: bool = False, stream: IO[str] | None = None) -> bool:
    """A bar only on an interactive terminal: in CI logs and pipes its carriage returns are noise."""
    stream = stream or sys.stderr
    return not quiet and bool(getattr(stream, "isatty", lambda: False)())


def progress_bar(total: int | None, desc: str, *, unit: str = "it", quiet: bool = False,
                 stream: IO[str] | None = None, **kw: Any) -> tqdm:
    """A tqdm bar on stderr that is disabled (every call a no-op) when not on a TTY or when quiet."""
    stream = stream or sys.stderr
    return tqdm(total=total, desc=desc, unit=unit, file=stream, disable=not bar_enabled(quiet, stream),
                dynamic_ncols=True, **kw)


def say(bar: tqdm, text: str, stream: IO[str] | None = None) -> None:
    """Print a line without breaking the bar (above it on a TTY, plainly otherwise)."""
    if bar.disable:
        print(text, file=stream or sys.stderr, flush=True)
    else:
        bar.write(text, file=stream or sys.stderr)
