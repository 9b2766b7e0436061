"""Read VerilogEval from a user's clone: v2 folders (spec-to-rtl, code-complete-iccad2023) and v1 JSONL.

Nothing of VerilogEval ships with circuit_muse; the user points at their own checkout.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from ._text import git_version, module_names, rename_module
from .problem import Problem, Suite

V2_DATASETS = ("dataset_spec-to-rtl", "dataset_code-complete-iccad2023")
V2_TOP, V2_REF, V2_TB = "TopModule", "RefModule", "tb"
V1_TOP = "top_module"


def load_verilog_eval(path: str | Path) -> Suite:
    """A VerilogEval suite from PATH: a v2 clone (spec-to-rtl), one v2 dataset folder, or a v1 .jsonl file."""
    p = Path(path).expanduser()
    if p.is_file() and p.suffix == ".jsonl":
        return _load_v1(p)
    if p.is_dir() and (p / V2_DATASETS[0]).is_dir():
        p = p / V2_DATASETS[0]
    elif p.is_dir() and (p / "data" / "VerilogEval_Human.jsonl").is_file():
        return _load_v1(p / "data" / "VerilogEval_Human.jsonl")
    if not p.is_dir() or not any(p.glob("*_test.sv")):
        raise InputError(f"{path}: not a VerilogEval checkout. Give the clone's root or one of "
                         f"{', '.join(V2_DATASETS)} (v2), or data/VerilogEval_Human.jsonl / "
                         "VerilogEval_Machine.jsonl (v1)")
    return _load_v2(p)


def _load_v2(folder: Path) -> Suite:
    listed = folder / "problems.txt"
    ids = [ln.strip() for ln in listed.read_text().splitlines() if ln.strip()] if listed.is_file() else \
        sorted(f.name[: -len("_test.sv")] for f in folder.glob("*_test.sv"))
    problems = []
    for pid in ids:
        files = {k: folder / f"{pid}_{k}" for k in ("prompt.txt", "ref.sv", "test.sv")}
        missing = [str(f) for f in files.values() if not f.is_file()]
        if missing:
            raise InputError(f"VerilogEval problem {pid} is incomplete: missing {', '.join(missing)}")
        ref, test = files["ref.sv"].read_text(), files["test.sv"].read_text()
        problems.append(Problem(
            id=pid, prompt=files["prompt.txt"].read_text(), top=V2_TOP, kind="verilog-eval",
            reference=rename_module(ref, V2_REF, V2_TOP),
            bench_modules=tuple(module_names(test) + module_names(ref)),
            data={"test": test, "test_name": f"{pid}_test.sv", "support": [(f"{pid}_ref.sv", ref)], "tb_top": V2_TB}))
    task = folder.name.removeprefix("dataset_")
    return Suite(name=f"verilog-eval-v2/{task}", path=str(folder), version=git_version(folder), problems=problems)


def _descriptions(jsonl: Path) -> dict[str, str]:
    """v1 keeps the natural-language descriptions in descriptions/VerilogDescription_<Human|Machine>.jsonl."""
    which = "Machine" if "Machine" in jsonl.name else "Human"
    for cand in (jsonl.parent.parent / "descriptions" / f"VerilogDescription_{which}.jsonl",
                 jsonl.parent / f"VerilogDescription_{which}.jsonl"):
        if cand.is_file():
            return {r["task_id"]: r.get("detail_description", "") for r in _read_jsonl(cand)}
    return {}


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{i}: not JSON ({exc.msg}); VerilogEval v1 files hold one JSON object "
                                 "per line") from None
    return rows


def _load_v1(jsonl: Path) -> Suite:
    descs = _descriptions(jsonl)
    problems = []
    for row in _read_jsonl(jsonl):
        missing = [k for k in ("task_id", "prompt", "canonical_solution", "test") if k not in row]
        if missing:
            raise InputError(f"{jsonl}: a record lacks {missing}; VerilogEval v1 records have task_id, prompt, "
                             "canonical_solution and test")
        desc = descs.get(row["task_id"], "").strip()
        prompt = (f"{desc}\n\n" if desc else "") + row["prompt"]
        problems.append(Problem(
            id=row["task_id"], prompt=prompt, top=V1_TOP, kind="verilog-eval",
            reference=row["prompt"] + row["canonical_solution"], bench_modules=tuple(module_names(row["test"])),
            data={"test": row["test"], "test_name": f"{row['task_id']}_test.sv", "support": [], "tb_top": V2_TB}))
    which = "machine" if "Machine" in jsonl.name else "human"
    return Suite(name=f"verilog-eval-v1/{which}", path=str(jsonl), version=git_version(jsonl.parent),
                 problems=problems)
