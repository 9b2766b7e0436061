"""Small text helpers the suite readers share: module names, renaming, git version of a clone."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

_MODULE_DECL = re.compile(r"^\s*(?:module|macromodule)\s+(\w+)", re.M)
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


def strip_comments(text: str) -> str:
    return _COMMENTS.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def module_names(text: str) -> list[str]:
    """Names of the modules a Verilog text declares, in order (comments ignored)."""
    return _MODULE_DECL.findall(strip_comments(text))


def rename_module(text: str, old: str, new: str) -> str:
    """Rename module `old` to `new`: its declaration and every instantiation of it."""
    return re.sub(rf"\b{re.escape(old)}\b", new, text)


def instantiates(text: str, name: str) -> bool:
    """Whether `text` instantiates module `name` (`name [#(...)] inst (`)."""
    pat = rf"^\s*{re.escape(name)}\s*(?:#\s*\(|[A-Za-z_]\w*\s*\()"
    return re.search(pat, strip_comments(text), re.M) is not None


def git_version(path: Path) -> str | None:
    """The commit of the git checkout holding `path`, or None when it is not one (or git is absent)."""
    try:
        out = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", sha) else None
