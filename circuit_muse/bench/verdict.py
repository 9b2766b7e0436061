"""The scoring verdict: functional correctness decides, lint and synthesis findings are reported beside.

A benchmark's own harness passes a design when its testbench passes. We do the same, with three
integrity rules on top (the benchmark's bench is trusted, the design is hostile):
- the design must stand alone: extract, screen and parse (pyslang elaborating the design by itself)
  must pass, so a hierarchical name reaching into the bench (`tb.good1.out`, `$root...`) fails;
- the design may not define a module the bench side defines (RefModule, stimulus_gen, tb, ...), and
  every module it defines must be used by the module the bench checks (no spare "top" to hide behind);
- the bench must reach its end with the number of samples the reference run produced.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ..engine.extract import extract_verilog
from ..report import Severity, VerificationReport
from ._text import instantiates, module_names, strip_comments
from .problem import Problem

STANDALONE_STAGES = ("extract", "screen", "parse")
STATIC_STAGES = ("lint", "synth")


@dataclass
class Verdict:
    """One candidate's outcome in a scoring run."""

    passed: bool
    category: str                      # "pass" or a failure category
    message: str = ""
    samples: int | None = None         # samples the bench checked (VerilogEval) / lines it printed (RTLLM)
    strict_passed: bool = False        # would it also pass lint + synth as errors (the loop's own policy)
    static_findings: dict[str, list[str]] = field(default_factory=dict)  # stage -> finding categories
    x_fraction: float | None = None    # RTLLM: share of input changes at which the outputs were X/Z

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# A definition anywhere on a line (after an attribute, another module's endmodule, ...), its name plain or
# escaped (`\RefModule ` is the same name as RefModule to every tool).
_DEFINITION = re.compile(r"\b(module|macromodule|interface|program|primitive|package)\s+(?:\\(\S+)|([A-Za-z_][\w$]*))")
_STRINGS = re.compile(r'"(?:\\.|[^"\\\n])*"')


def defined_names(src: str, kinds: tuple[str, ...] = ("module", "macromodule", "interface", "program", "primitive",
                                                       "package")) -> list[str]:
    """Names of the modules (interfaces, programs, primitives, packages) a design defines, in order."""
    code = _STRINGS.sub('""', strip_comments(src))
    return [m.group(2) or m.group(3) for m in _DEFINITION.finditer(code) if m.group(1) in kinds]


def precheck(problem: Problem, text: str) -> Verdict | None:
    """Reject a design that redefines a bench module, lacks the checked module, or hides a spare one."""
    src = extract_verilog(text).source
    if not src:
        return None  # the engine reports no_code itself
    clash = sorted(set(defined_names(src)) & set(problem.bench_modules))
    if clash:
        return Verdict(False, "interface", f"the design defines {', '.join(clash)}, which the benchmark's "
                       "testbench side defines; a design may only define its own modules")
    names = list(dict.fromkeys(module_names(src) + defined_names(src, ("module", "macromodule"))))
    if problem.top not in names:
        return Verdict(False, "interface", f"the design does not define module {problem.top!r}, which the "
                       f"testbench instantiates (it defines {', '.join(names) or 'none'})")
    unused = sorted(set(names) - _used_by(src, problem.top, names))
    if unused:
        return Verdict(False, "interface", f"module(s) {', '.join(unused)} are defined but not used by "
                       f"{problem.top}; only {problem.top} and what it instantiates may be in the design")
    return None


def _bodies(src: str) -> dict[str, str]:
    text = strip_comments(src)
    out: dict[str, str] = {}
    for m in re.finditer(r"\b(?:module|macromodule)\s+(?:\\(\S+)|(\w+))(.*?)\bendmodule\b", text, re.S):
        out[m.group(1) or m.group(2)] = m.group(3)
    return out


def _used_by(src: str, top: str, names: list[str]) -> set[str]:
    bodies = _bodies(src)
    seen, todo = {top}, [top]
    while todo:
        body = bodies.get(todo.pop(), "")
        for n in names:
            if n not in seen and instantiates(body, n):
                seen.add(n)
                todo.append(n)
    return seen


X_TOLERANCE = 0.25  # a pass may show X/Z outputs on at most this much larger a share of input changes


def _x_fraction(report: VerificationReport) -> float | None:
    from .testbenches import X_TOOL

    sim = report.stage("simulate")
    for d in sim.diagnostics if sim else []:
        m = re.fullmatch(r"x_samples=(\d+) checked=(\d+)", d.message) if d.tool == X_TOOL else None
        if m and int(m.group(2)):
            return int(m.group(1)) / int(m.group(2))
    return None


def judge(report: VerificationReport, *, expected_samples: int | None = None,
          expected_x: float | None = None) -> Verdict:
    """The functional verdict of a report produced with continue_on_fail=True.

    expected_samples / expected_x come from the reference's run of the same bench (calibration)."""
    findings = {s.name: sorted({(d.category.value if d.category else "lint") for d in s.diagnostics
                                if d.severity is Severity.ERROR})
                for s in report.stages if s.name in STATIC_STAGES and not s.passed}
    strict = report.passed
    for name in STANDALONE_STAGES:
        st = report.stage(name)
        if st is not None and not st.passed and not st.skipped:
            msg = st.errors[0].message if st.errors else f"{name} failed"
            return Verdict(False, (st.category.value if st.category else "syntax"), msg,
                           strict_passed=False, static_findings=findings)
    sim = report.stage("simulate")
    if sim is None:
        cat = report.category.value if not report.passed else "testbench"
        return Verdict(False, cat, "the testbench did not run", static_findings=findings)
    samples = sim.simulation.samples if sim.simulation else None
    if not sim.passed:
        msg = sim.errors[0].message if sim.errors else "the testbench failed"
        return Verdict(False, sim.category.value if sim.category else "mismatch", msg, samples,
                       static_findings=findings)
    if expected_samples is not None and samples != expected_samples:
        return Verdict(False, "incomplete", f"the testbench checked {samples} samples; the reference run "
                       f"checked {expected_samples}, so the bench did not run to its end", samples,
                       static_findings=findings)
    xf = _x_fraction(report)
    if xf is not None and expected_x is not None and xf > expected_x + X_TOLERANCE:
        return Verdict(False, "mismatch", f"the design's outputs were X/Z at {xf:.0%} of the input changes (the "
                       f"reference's: {expected_x:.0%}); the bench's != checks let X through, we do not",
                       samples, static_findings=findings, x_fraction=xf)
    return Verdict(True, "pass", "", samples, strict_passed=strict, static_findings=findings, x_fraction=xf)
