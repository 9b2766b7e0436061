"""The service's one seam onto the loop and the engine: everything it calls there goes through here.

Kept thin on purpose: when the engine's API grows (report levels, per-candidate benches, live stage
callbacks), this is the file to adapt.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine.options import VerifyOptions
from ..errors import InputError
from ..loop import GenerationResult, generate_verified
from ..loop.events import Event
from ..models.base import Model
from ..report import VerificationReport
from ..testbench.base import Testbench
from .bench_screen import screen_bench


def level_of(report: VerificationReport | None) -> str | None:
    """'functional' when simulation tested the behaviour, 'static' when only lint/synth ran, None without code."""
    if report is None:
        return None
    level = getattr(report, "level", None)  # the engine is gaining this field; prefer it when present
    if isinstance(level, str):
        return level
    return "functional" if report.functional_tested else "static"


def report_dict(report: VerificationReport | None) -> dict[str, Any] | None:
    """A report for clients: everything but the raw model text (the token stream already carried it)."""
    if report is None:
        return None
    d = report.to_dict()
    d.pop("raw_text", None)
    d["level"] = level_of(report)
    return d


def result_dict(result: GenerationResult) -> dict[str, Any]:
    d = result.to_dict()
    d["report"] = report_dict(result.report)
    d["level"] = level_of(result.report)
    for c in d["candidates"]:
        c.pop("text", None)
    return d


def suite_testbench(suite: str, params: dict[str, int]) -> Testbench:
    from ..suites import family_names, get_suite

    family, _, variant = suite.partition("/")
    if family not in family_names():
        raise InputError(f"unknown suite {suite!r}; choose from {', '.join(family_names())}")
    return get_suite(family, variant or None, params)


def uploaded_testbench(text: str, name: str) -> Testbench:
    """A self-checking Verilog bench sent by a client, screened like a design before any tool sees it."""
    from ..testbench.verilog_tb import VerilogTestbench

    if not name.endswith((".v", ".sv")):
        raise InputError("only self-checking Verilog testbenches (.v/.sv) are accepted over HTTP; "
                         "cocotb benches are Python code and would run on the server")
    screen_bench(text, name=name)
    return VerilogTestbench(text, name=name)


def reference_testbench(text: str) -> Testbench:
    from ..engine.pipeline import verify
    from ..testbench import ReferenceTestbench

    # A reference is compiled and run too, so it gets the design's screen, in a bounded engine worker.
    screened = verify(text, options={"stages": ()}, use_cache=False)
    problems = [d for s in screened.stages if not s.passed for d in s.errors]
    if problems:
        first = problems[0]
        raise InputError(f"reference line {first.line}: {first.message}" if first.line else
                         f"reference: {first.message}")
    return ReferenceTestbench(text)


def verify_options(testbench: Testbench | None, simulator: str) -> VerifyOptions:
    opts = VerifyOptions.from_mapping({"simulator": simulator})
    if hasattr(testbench, "verify_options"):
        opts = testbench.verify_options(opts)  # type: ignore[union-attr]
    return opts


def run_verify(source: str, *, testbench: Testbench | None, top: str | None, simulator: str) -> VerificationReport:
    """One /verify request, on a worker thread (never the event loop)."""
    from ..engine.many import verify_many

    contract = getattr(testbench, "contract", None)
    kwargs: dict[str, Any] = {"testbench": testbench, "contract": contract,
                              "options": verify_options(testbench, simulator)}
    if top:
        kwargs["top"] = top
    return verify_many([source], workers=1, **kwargs)[0]


def run_generation(prompt: str, settings: dict[str, Any], *, model: Model, on_event: Callable[[Event], None],
                   verifier: Callable[..., list[VerificationReport]], testbench: Testbench | None,
                   max_seconds: float) -> GenerationResult:
    """One job: the loop with the shared model, this job's killable verifier and its budget."""
    return generate_verified(prompt, model=model, testbench=testbench, max_rounds=settings["rounds"],
                             samples=settings["samples"], temperature=settings.get("temperature"),
                             seed=settings.get("seed"), on_event=on_event, max_seconds=max_seconds,
                             max_new_tokens=settings["max_new_tokens"], verifier=verifier,
                             task=settings.get("task"))


def matched_suite(prompt: str) -> dict[str, Any] | None:
    """The family suite the loop will match for this prompt (the same matcher), kept with the job."""
    from ..suites import match

    m = match(prompt)
    return None if m is None else {"family": m.family, "variant": m.variant, "params": dict(m.params)}


def rerun_for_waveform(source: str, suite: dict[str, Any]) -> dict[str, Any] | None:
    """Simulate a failing candidate against its suite's reference design, keeping the waveform.

    Suites check on a fast path that dumps no VCD; this run compares the design with the suite's own
    reference RTL under random stimulus, so the waveform shows the reference's and the design's outputs
    side by side. Returns the simulation detail (with vcd_path and its own mismatches), or None.
    """
    from ..suites import get_suite
    from ..testbench import ReferenceTestbench

    ref = get_suite(suite["family"], suite.get("variant"), suite.get("params") or {}).reference_rtl()
    rep = run_verify(source, testbench=ReferenceTestbench(ref), top=None, simulator="icarus")
    sim = rep.stage("simulate")
    return sim.simulation.to_dict() if sim is not None and sim.simulation is not None else None
