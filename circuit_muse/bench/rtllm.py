"""Read RTLLM v2 from a user's clone: <category>/<sub>/<design>/{design_description.txt, testbench.v,
verified_*.v, data files}. The bench's own pass rule (a printed "Pass") is turned into a nonce verdict
by RtllmTestbench; here we only read the folders.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from ._text import git_version, instantiates, module_names, rename_module, strip_comments
from .problem import Problem, Suite

_SKIP = {"testbench.v", "design_description.txt", "makefile", "Makefile"}
MAX_DATA_BYTES = 4 << 20


def load_rtllm(path: str | Path) -> Suite:
    root = Path(path).expanduser()
    if not root.is_dir():
        raise InputError(f"{path}: not a folder; give the root of an RTLLM v2 clone")
    dirs = sorted({tb.parent for tb in root.rglob("testbench.v") if (tb.parent / "design_description.txt").is_file()})
    if not dirs:
        raise InputError(f"{path}: no <design>/testbench.v with a design_description.txt below it; "
                         "is this an RTLLM v2 clone?")
    return Suite(name="rtllm-v2", path=str(root), version=git_version(root),
                 problems=[_problem(root, d) for d in dirs])


def _described_name(description: str) -> str | None:
    m = re.search(r"Module name:\s*\n?\s*([A-Za-z_]\w*)", description)
    return m.group(1) if m else None


def _problem(root: Path, folder: Path) -> Problem:
    pid = folder.relative_to(root).as_posix()
    desc = (folder / "design_description.txt").read_text(errors="replace")
    bench = (folder / "testbench.v").read_text(errors="replace")
    refs = sorted(folder.glob("verified_*.v"))
    if not refs:
        raise InputError(f"RTLLM design {pid} has no verified_*.v reference")
    ref = "\n".join(r.read_text(errors="replace") for r in refs)
    ref_mods = module_names(ref)
    bench_mods = module_names(bench)
    named = _described_name(desc)
    # The module the bench instantiates decides the design's name; the description usually agrees.
    candidates = [n for n in [named, *ref_mods, *(m.removeprefix("verified_") for m in ref_mods)] if n]
    top = next((n for n in candidates if n not in bench_mods and instantiates(bench, n)), named or ref_mods[0])
    main = next((m for m in ref_mods if m in (top, f"verified_{top}")), None) or \
        next((m for m in ref_mods if m.startswith("verified_")), ref_mods[0])
    reference = rename_module(ref, main, top) if main != top else ref
    data_files = []
    for f in sorted(folder.iterdir()):
        if f.is_file() and f.name not in _SKIP and not f.name.startswith("verified_") and \
                f.stat().st_size <= MAX_DATA_BYTES:
            data_files.append((f.name, f.read_text(errors="replace")))
    inputs, outputs = _ports(reference, top)
    return Problem(id=pid, prompt=desc, top=top, reference=reference, kind="rtllm", bench_modules=tuple(bench_mods),
                   data={"bench": bench, "data_files": data_files, "described_name": named,
                         "dut_instance": _instance_name(bench, top), "inputs": inputs, "outputs": outputs})


def _instance_name(bench: str, top: str) -> str | None:
    m = re.search(rf"^\s*{re.escape(top)}\s*(?:#\s*\((?:[^()]|\([^()]*\))*\)\s*)?([A-Za-z_]\w*)\s*\(",
                  strip_comments(bench), re.M)
    return m.group(1) if m else None


def _ports(reference: str, top: str) -> tuple[list[str], list[str]]:
    from ..engine.elaborate import elaborate

    mod = elaborate(reference, top=top).module(top)
    if mod is None:
        return [], []
    return [p.name for p in mod.ports if p.direction == "input"], [p.name for p in mod.ports if p.direction == "output"]
