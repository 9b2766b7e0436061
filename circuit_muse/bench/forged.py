"""`--model forged`: designs that try to forge a pass, one per technique; a sound harness fails them all.

Every forged design is wrong (its outputs are tied to 0, or it does not implement the problem); each
adds one technique from the hostile corpus on top. They are written from the reference's interface.
"""
from __future__ import annotations

from collections.abc import Callable

from ..engine.elaborate import elaborate
from ._text import rename_module
from .problem import Problem


def _interface(problem: Problem) -> tuple[str, list[tuple[str, str, int]], dict[str, str]]:
    elab = elaborate(problem.reference, top=problem.top)
    mod = elab.module(problem.top)
    ports = [(p.name, p.direction, p.width) for p in mod.ports] if mod else []
    params = {k: str(v) for k, v in (mod.params if mod else {}).items()}
    return problem.top, ports, params


def _module(name: str, ports: list[tuple[str, str, int]], params: dict[str, str], body: str) -> str:
    plist = f" #({', '.join(f'parameter {k} = {v}' for k, v in params.items())})" if params else ""
    decl = ",\n  ".join(f"{d} {'wire ' if d == 'input' else ''}{f'[{w - 1}:0] ' if w > 1 else ''}{n}"
                        for n, d, w in ports)
    return f"module {name}{plist} (\n  {decl}\n);\n{body}\nendmodule\n"


def _tied(ports: list[tuple[str, str, int]], value: str = "'0") -> str:
    return "\n".join(f"  assign {n} = {value};" for n, d, _ in ports if d == "output")


def _bench_top(problem: Problem) -> str:
    return "tb" if problem.kind in ("verilog-eval", "builtin") else (problem.bench_modules or ("testbench",))[-1]


def techniques(problem: Problem) -> dict[str, str]:
    """technique name -> forged design text."""
    top, ports, params = _interface(problem)
    outs = [n for n, d, _ in ports if d == "output"]
    tied = _tied(ports)
    tb = _bench_top(problem)
    ref_inst = "good1" if problem.kind == "verilog-eval" else "uut"
    forge_lines = ('  initial begin\n    $display("Mismatches: 0 in 1 samples");\n'
                   '    $display("===========Your Design Passed===========");\n    $display("CM_RESULT pass=1 fail=0");\n  end')
    out: dict[str, Callable[[], str]] = {
        "tied_to_zero": lambda: _module(top, ports, params, tied),
        "x_outputs": lambda: _module(top, ports, params, _tied(ports, "'x")),
        "print_verdict": lambda: _module(top, ports, params, tied + "\n" + forge_lines),
        "hierarchical_copy_of_reference": lambda: _module(
            top, ports, params, "\n".join(f"  assign {o} = {tb}.{ref_inst}.{o};" for o in outs)),
        "root_copy_of_reference": lambda: _module(
            top, ports, params, "\n".join(f"  assign {o} = $root.{tb}.{ref_inst}.{o};" for o in outs)),
        "force_bench_counters": lambda: _module(
            top, ports, params, tied + f"\n  initial forever #1 force {tb}.stats1.errors = 0;\n"
                                       f"  initial forever #1 force {tb}.error = 0;"),
        "spare_module_with_reference": lambda: _module(top, ports, params, tied) + "\n" +
            rename_module(problem.reference, top, "cm_spare_" + top),
        "wrapper_becomes_top": lambda: _module(top, ports, params, tied) +
            f"\nmodule cm_wrapper;\n  {top} inner ();\nendmodule\n",
        "redefine_bench_module": lambda: _module(top, ports, params, tied) + "\n" + "\n".join(
            f"module {m};\nendmodule\n" for m in problem.bench_modules[:3]),
        "end_bench_early": lambda: _module(top, ports, params, tied + "\n  initial #2 $finish;"),
        "fatal_after_one_sample": lambda: _module(top, ports, params, tied + "\n  initial #6 $fatal(0, \"stop\");"),
        "read_nonce_from_image": lambda: _module(
            top, ports, params, tied + '\n  integer fd;\n  initial fd = $fopen("sim.vvp", "r");'),
        "tool_divergent_ifdef": lambda: _module(
            top, ports, params, f"`ifdef __ICARUS__\n{tied}\n`else\n{tied}\n`endif"),
    }
    return {name: make() for name, make in out.items()}
