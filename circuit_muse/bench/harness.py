"""run_bench(): score a model on a suite. Generate, verify (functional verdict), repair for `rounds`,
write one JSONL record per problem as it finishes, and summarise.

Modes: `hidden` (the loop sees only lint, synthesis and circuit_muse's own checks; the benchmark's bench
gives the final verdict) and `oracle` (the benchmark's bench is in the loop, as MAGE/VerilogCoder/AutoChip
run by default).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine.options import VerifyOptions
from ..errors import InputError
from ..loop.feedback import build_feedback
from ..loop.prompts import first_messages, repair_messages
from ..report import Category, Level, StageResult, VerificationReport
from ..tools.registry import versions
from .executors import make_executor
from .metrics import summarize
from .problem import Problem, Suite
from .records import RecordStore
from .sources import CandidateSource, Generated, make_source, prompt_template_hash
from .suites import load_suite, select
from .verdict import Verdict, judge, precheck
from .verifying import scoring_options

MODES = ("hidden", "oracle")
_THREADS: dict[int, ThreadPoolExecutor] = {}
_THREADS_LOCK = threading.Lock()


def _threads(n: int) -> ThreadPoolExecutor:
    """Long-lived scoring threads. The engine's workers die with the thread that started them
    (PR_SET_PDEATHSIG is per thread), and idle workers are reused across calls, so these threads must
    outlive any one run."""
    with _THREADS_LOCK:
        if n not in _THREADS:
            _THREADS[n] = ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"cm-bench-{n}")
        return _THREADS[n]
CALIBRATION_FILE = "calibration.json"


@dataclass
class BenchConfig:
    suite: str
    model: str
    out: Path
    samples: int = 1
    rounds: int = 1
    temperature: float | None = None
    top_p: float | None = None
    mode: str = "hidden"
    workers: int = 2
    executor: str = "local"
    address: str | None = None
    limit: int | None = None
    problems: str | None = None
    seed: int = 1
    checks: str = "full"
    max_new_tokens: int = 1536
    model_options: dict[str, Any] = field(default_factory=dict)
    use_cache: bool = True  # answer repeated (design, bench) checks from the engine's result cache

    def validate(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"--mode {self.mode!r}: choose hidden or oracle")
        if self.samples < 1 or self.rounds < 1 or self.workers < 1:
            raise InputError("--samples, --rounds and --workers must be at least 1")
        if self.checks not in ("full", "functional"):
            raise InputError(f"--checks {self.checks!r}: choose full or functional")
        if self.temperature is not None and self.temperature < 0:
            raise InputError("--temperature must be >= 0")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise InputError("--top-p must be in (0, 1]")


@dataclass
class BenchRun:
    """What run_bench() returns: the protocol, the metrics and every record (suite order)."""

    protocol: dict[str, Any]
    metrics: dict[str, Any]
    records: list[dict[str, Any]]
    out: Path


ProgressCallback = Callable[[dict[str, Any], int, int], None]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _problem_seed(seed: int, pid: str) -> int:
    return int(_sha(f"{seed}:{pid}")[:8], 16)


def protocol(cfg: BenchConfig, suite: Suite, source: CandidateSource, options: VerifyOptions,
             selected: list[Problem]) -> dict[str, Any]:
    proto = {
        "suite": suite.describe(), "selected_problems": len(selected),
        "selection": {"problems": cfg.problems, "limit": cfg.limit, "seed": cfg.seed},
        "tools": versions(("iverilog", "vvp", "verilator", "yosys")), "circuit_muse": __version__,
        **source.describe(),
        "samples": cfg.samples, "rounds": cfg.rounds, "samples_per_round": cfg.samples,
        "temperature": cfg.temperature, "top_p": cfg.top_p, "max_new_tokens": cfg.max_new_tokens,
        "prompt_template_hash": prompt_template_hash(), "mode": cfg.mode, "checks": cfg.checks,
        "verify_options": options.fingerprint(),
    }
    keyed = {k: v for k, v in proto.items() if k not in ("tools",)}
    keyed["tools"] = proto["tools"]
    proto["run_key"] = _sha(json.dumps(keyed, sort_keys=True, default=str))[:16]
    return proto


class _Calibration:
    """Samples each problem's reference checks (the count a passing design must reach), kept in --out."""

    def __init__(self, out: Path, suite_hash: str) -> None:
        self.path = out / CALIBRATION_FILE
        data = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.data: dict[str, dict[str, Any]] = data.get("problems", {}) if data.get("suite") == suite_hash else {}
        self.suite_hash = suite_hash
        self._lock = threading.Lock()

    def get(self, pid: str) -> dict[str, Any] | None:
        return self.data.get(pid)

    def put(self, pid: str, verdict: Verdict) -> None:
        with self._lock:
            self.data[pid] = {"passed": verdict.passed, "samples": verdict.samples, "category": verdict.category,
                              "x_fraction": verdict.x_fraction}

    def save(self) -> None:
        with self._lock:
            text = json.dumps({"suite": self.suite_hash, "problems": self.data}, indent=1, sort_keys=True)
        self.path.write_text(text)


def _static_failure(report: VerificationReport) -> StageResult | None:
    """The first failing stage other than the benchmark's simulation (None: lint, synth and screen are clean)."""
    return next((s for s in report.stages if s.name != "simulate" and not s.passed and not s.skipped), None)


def _static_view(report: VerificationReport) -> VerificationReport:
    """What the loop may see in hidden mode: the failing report without the benchmark's simulation."""
    failed = _static_failure(report)
    return dataclasses.replace(report, stages=[s for s in report.stages if s.name != "simulate"], passed=False,
                               level=Level.FAILED, category=(failed.category or Category.LINT) if failed else Category.LINT)


def run_bench(cfg: BenchConfig, *, on_problem: ProgressCallback | None = None) -> BenchRun:
    """Score cfg.model on cfg.suite; resumes from the records already in cfg.out."""
    cfg.validate()
    suite = load_suite(cfg.suite)
    selected = select(suite.problems, pattern=cfg.problems, limit=cfg.limit, seed=cfg.seed)
    source = make_source(cfg.model, temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens,
                         model_options=cfg.model_options) if cfg.model not in ("reference", "forged") else \
        make_source(cfg.model)
    options = scoring_options(checks=cfg.checks)
    proto = protocol(cfg, suite, source, options, selected)
    cfg.out.mkdir(parents=True, exist_ok=True)
    store = RecordStore(cfg.out, proto["run_key"])
    calib = _Calibration(cfg.out, suite.content_hash)
    executor = make_executor(cfg.executor, workers=cfg.workers, address=cfg.address, use_cache=cfg.use_cache)
    todo = [p for p in selected if p.id not in store.done]
    done = len(selected) - len(todo)
    lock = threading.Lock()

    def score(problem: Problem) -> None:
        nonlocal done
        (rec,) = _score_chunk([problem], cfg, source, options, executor, calib)
        with lock:
            store.add(rec)
            calib.save()
            done += 1
            if on_problem:
                on_problem(rec, done, len(selected))

    # One thread per parallel slot, each scoring whole problems: a slow problem holds one slot only, and
    # each problem's record is written the moment it finishes.
    try:
        pool = _threads(max(1, executor.parallelism))
        futures = [pool.submit(score, p) for p in todo]
        try:
            for fut in as_completed(futures):
                fut.result()
        except BaseException:
            for fut in futures:  # one problem failed: do not leave the rest running behind the caller
                fut.cancel()
            raise
    finally:
        executor.close()
    records = [store.done[p.id] for p in selected if p.id in store.done]
    return BenchRun(protocol=proto, metrics=summarize(records, rounds=cfg.rounds), records=records, out=cfg.out)


@dataclass
class _Sample:
    index: int
    messages: list[Any]
    current: Generated
    rounds: list[dict[str, Any]] = field(default_factory=list)
    loop_ok: bool = False
    report: VerificationReport | None = None


def _common_top(problems: list[Problem]) -> str | None:
    tops = {p.top for p in problems}
    return tops.pop() if len(tops) == 1 else None  # precheck makes the engine's own choice this top anyway


def _score_chunk(chunk: list[Problem], cfg: BenchConfig, source: CandidateSource, options: VerifyOptions,
                 executor: Any, calib: _Calibration) -> list[dict[str, Any]]:
    top = _common_top(chunk)
    benches = {p.id: p.testbench() for p in chunk}
    states: dict[str, list[_Sample]] = {}
    for p in chunk:
        first = first_messages(p.prompt)
        gens = source.first(p, first, cfg.samples, _problem_seed(cfg.seed, p.id))
        states[p.id] = [_Sample(i, first, g) for i, g in enumerate(gens)]
    # Calibrate problems whose reference has not run yet: its sample count is what a pass must reach.
    need_calib = [p for p in chunk if calib.get(p.id) is None and source.name != "reference"]
    for rnd in range(1, cfg.rounds + 1):
        active = [(p, s) for p in chunk for s in states[p.id] if rnd == 1 or (not s.loop_ok and source.repairs)]
        if not active:
            break
        if rnd > 1:
            for p, s in active:
                fb = build_feedback(s.report if cfg.mode == "oracle" else _static_view(s.report)) if s.report else None
                text = fb.text if fb else s.rounds[-1]["message"]
                s.current = source.repair(p, repair_messages(s.messages, s.current.text, text),
                                          _problem_seed(cfg.seed, f"{p.id}/{s.index}/{rnd}"))
        pre = {id(s): precheck(p, s.current.text) for p, s in active}
        items = [(s.current.text, benches[p.id]) for p, s in active if pre[id(s)] is None]
        if rnd == 1 and need_calib:  # not counted in the candidates' verification time
            calib_reports = executor.verify([(p.reference, benches[p.id]) for p in need_calib], top=top, options=options)
            for p, rep in zip(need_calib, calib_reports, strict=True):
                calib.put(p.id, judge(rep))
        t = time.monotonic()
        reports = executor.verify(items, top=top, options=options)
        per = (time.monotonic() - t) / max(1, len(items))
        it = iter(reports)
        for p, s in active:
            verdict = pre[id(s)]
            rep = None
            if verdict is None:
                rep = next(it)
                cal = calib.get(p.id)
                good = cal if cal and cal.get("passed") else {}
                verdict = judge(rep, expected_samples=good.get("samples"), expected_x=good.get("x_fraction"))
                if source.name == "reference" and calib.get(p.id) is None:
                    calib.put(p.id, verdict)
            s.report = rep
            static_ok = rep is not None and _static_failure(rep) is None
            s.loop_ok = verdict.passed if cfg.mode == "oracle" else (static_ok and pre[id(s)] is None)
            s.rounds.append({"round": rnd, **verdict.to_dict(), "tokens": s.current.tokens,
                             "model_s": round(s.current.model_s, 4), "verify_s": round(per if rep else 0.0, 4),
                             "design_sha": _sha(s.current.text)[:16], "technique": s.current.technique})
    out = []
    for p in chunk:
        samples = [{"index": s.index, "passed": s.rounds[-1]["passed"], "rounds": s.rounds,
                    "verilog": s.current.text if cfg.model not in ("reference", "forged") else None}
                   for s in states[p.id]]
        out.append({"problem": p.id, "reference": calib.get(p.id), "n": len(samples),
                    "c": sum(s["passed"] for s in samples), "samples": samples})
    return out
