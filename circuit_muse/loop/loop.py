"""generate_verified(): the model writes, the engine checks, feedback goes back until a design passes."""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..contract import Contract
from ..engine.extract import extract_verilog
from ..engine.many import verify_many
from ..engine.options import VerifyOptions
from ..errors import InputError
from ..models.base import GenerationRequest, Model
from ..models.registry import get_model
from ..report import Level
from ..testbench.base import Testbench, load_testbench
from . import events as ev
from .feedback import build_feedback
from .prompts import first_messages, repair_messages
from .result import Candidate, GenerationResult
from .tasks import Task, classify_task

log = logging.getLogger("circuit_muse.loop")
EventCallback = Callable[[ev.Event], None]


@dataclass
class Budget:
    """Limits on one generate_verified() call; the loop stops at the first one reached."""

    max_rounds: int = 4
    max_tokens: int | None = None
    max_seconds: float | None = None
    max_new_tokens: int = 1536


@dataclass
class _Target:
    testbench: Testbench | None
    contract: Contract | None
    spec: dict[str, Any] | None
    spec_text: str | None
    match: dict[str, Any] | None = None  # what the matcher found and what it could not honour


def _resolve_target(prompt: str, testbench: Testbench | str | os.PathLike[str] | None,
                    contract: Contract | None) -> _Target:
    """The checks for this prompt: the caller's testbench, else the matched family suite, else static only.

    A match that would test behaviour the prompt did not ask for (Match.ignored) is never imposed: the
    loop runs lint and synthesis only and says what it matched and what it ignored.
    """
    if testbench is not None:
        tb = load_testbench(testbench) if isinstance(testbench, (str, os.PathLike)) else testbench
        return _Target(tb, contract or getattr(tb, "contract", None), None, None,
                       {"mode": "testbench", "family": None, "unsure": False, "ignored": [], "adapted": []})
    from ..suites import get_suite, match

    m = match(prompt)
    if m is None:
        return _Target(None, contract, None, None,
                       {"mode": "static", "family": None, "unsure": False, "ignored": [], "adapted": []})
    info = {**m.to_dict(), "mode": "static" if m.contradicts_prompt else "suite"}
    if m.contradicts_prompt:
        return _Target(None, contract, None, None, info)
    suite = get_suite(m.family, m.variant, m.params, parameterized=m.parameterized)
    spec = suite.spec
    return _Target(suite, contract or suite.contract, {"family": m.family, "variant": m.variant,
                                                         "params": dict(m.params), **spec.to_dict()},
                   spec.prompt_text(), info)


def describe_match(info: dict[str, Any] | None) -> str:
    """One line for people: which checks will run for this prompt, and why."""
    if not info or info["mode"] == "testbench":
        return "checking against the given testbench"
    if info.get("family") is None:
        return ("no built-in family suite matches this prompt and no testbench was given: only lint and "
                "synthesis will run, the result will be NOT FUNCTIONALLY VERIFIED")
    what = f"{info['family']}/{info['variant']} {info.get('params', {})} (confidence {info['confidence']:.2f})"
    if info["mode"] == "static":
        return (f"matched {what}, but that suite cannot express: {'; '.join(info['ignored'])}. Testing "
                "against it would contradict the prompt, so only lint and synthesis will run: the result will "
                "be NOT FUNCTIONALLY VERIFIED (give --testbench to check behaviour)")
    line = f"matched {what}"
    if info.get("adapted"):
        line += f"; adapted: {'; '.join(info['adapted'])}"
    if info.get("unsure"):
        line += "; UNSURE: check the contract in the prompt fits, or give --testbench"
    return line


def _default_temperature(samples: int) -> float:
    return 0.2 if samples == 1 else 0.8


def generate_verified(prompt: str, *, model: Model | str | None = None,
                      testbench: Testbench | str | os.PathLike[str] | None = None,
                      contract: Contract | None = None, max_rounds: int = 4, samples: int = 4,
                      temperature: float | None = None, seed: int | None = None,
                      on_event: EventCallback | None = None, task: Task | str | None = None,
                      max_tokens: int | None = None, max_seconds: float | None = None,
                      max_new_tokens: int = 1536, options: VerifyOptions | dict[str, Any] | None = None,
                      workers: int | None = None,
                      verifier: Callable[..., list[Any]] | None = None) -> GenerationResult:
    """Generate Verilog for `prompt` and repair it with verification feedback until it passes.

    Args:
        prompt: what to build, in plain English (code in it makes it a "fix" task).
        model: a Model, or a spec string ("hf:PATH", "openai:BASE_URL#MODEL"); default $CIRCUIT_MUSE_MODEL.
        testbench: a Testbench or a path (cocotb .py or self-checking Verilog); replaces the matched suite.
        contract: the interface the design must have (module, ports, params); default: the suite's.
        max_rounds: generate/verify/feedback rounds at most; samples: candidates per round.
        temperature: sampling temperature (default 0.2 for one sample, 0.8 for several); seed: base seed.
        on_event: called with every Event (match, round_started, token, stage, candidate, feedback, done).
        task: force "generate", "debug", "assertion" or "explain" (default: classified from the prompt).
        max_tokens / max_seconds: total completion tokens / wall seconds before stopping.
        max_new_tokens: per completion. options: VerifyOptions (or a dict) for verify(). workers: verify pool.
        verifier: replaces verify_many (same signature); the service runs each job's checks in a process it
            can kill on cancel.

    Returns a GenerationResult: ``passed`` (True only if a testbench, suite or reference ran and passed),
    ``level`` ("functional", "static" when only lint and synthesis could run, "failed"), the best
    ``verilog`` and its ``report``, every candidate in ``rounds``, the ``match`` (what the prompt matched and
    what it ignored), ``feedback`` sent, token counts and timings. When no suite fits the prompt, the loop
    stops at the first lint+synth clean candidate and returns it with ``passed=False, level="static"``.

    Example::

        result = generate_verified("Design a 4-bit counter with active-low reset.",
                                   model="openai:http://localhost:8000/v1#verilog", samples=2)
        if result.passed:
            open("counter.v", "w").write(result.verilog)
        print(result.level, result.match["mode"], result.report.summary())
    """
    if max_rounds < 1 or samples < 1:
        raise InputError("max_rounds and samples must be >= 1")
    t_start = time.monotonic()
    emit = on_event or (lambda e: None)
    mdl = model if isinstance(model, Model) else get_model(model)
    kind = Task(task) if task else classify_task(prompt)
    target = _resolve_target(prompt, testbench, contract)
    if kind is not Task.EXPLAIN:
        emit(ev.match(target.match or {}, describe_match(target.match)))
    if kind is Task.EXPLAIN:
        return _explain(prompt, mdl, emit, seed, max_new_tokens, t_start)
    opts = VerifyOptions.from_mapping(options) if not isinstance(options, VerifyOptions) else options
    if hasattr(target.testbench, "verify_options"):
        opts = target.testbench.verify_options(opts)  # a family suite knows what its checks need
    if kind is Task.ASSERTION and not opts.allow_assertions:
        opts = dataclasses.replace(opts, allow_assertions=True)
    budget = Budget(max_rounds, max_tokens, max_seconds, max_new_tokens)
    first = first_messages(prompt, spec_text=target.spec_text, contract=target.contract)
    messages = first
    result = GenerationResult(passed=False, task=kind.value, verilog=None, report=None, rounds=[],
                              spec=target.spec, stop_reason="rounds", match=target.match)
    if target.testbench is None:
        result.notes.append("no functional test: " + describe_match(target.match))
    elif target.match and target.match.get("unsure"):
        result.notes.append(describe_match(target.match))
    for rnd in range(1, budget.max_rounds + 1):
        emit(ev.round_started(rnd, samples))
        req = GenerationRequest(messages=messages, n=samples, max_new_tokens=budget.max_new_tokens,
                                temperature=_default_temperature(samples) if temperature is None else temperature,
                                seed=None if seed is None else seed + rnd - 1)
        gen = mdl.stream(req, on_chunk=lambda c, r=rnd: emit(ev.token(r, c.index, c.text)))
        result.prompt_tokens += gen.prompt_tokens
        result.completion_tokens += gen.completion_tokens
        result.generation_s += gen.duration_s
        t_ver = time.monotonic()
        texts = [c.text for c in gen.completions]
        reports = (verifier or verify_many)(texts, testbench=target.testbench, contract=target.contract, options=opts,
                              workers=workers or min(len(texts), os.cpu_count() or 1))
        ver_s = time.monotonic() - t_ver
        result.verification_s += ver_s
        for comp, rep in zip(gen.completions, reports, strict=True):
            for st in rep.stages:
                emit(ev.stage(rnd, comp.index, st.name, st.passed, st.skipped,
                              st.category.value if st.category else None))
            cand = Candidate(round=rnd, index=comp.index, text=comp.text, verilog=rep.source, report=rep,
                             score=rep.score, completion_tokens=comp.completion_tokens,
                             generation_s=gen.duration_s, verification_s=ver_s / max(1, len(texts)))
            result.rounds.append(cand)
            emit(ev.candidate(rnd, comp.index, rep.passed, rep.category.value, rep.score, rep.cache_hit,
                              rep.level.value))
        round_best = max((c for c in result.rounds if c.round == rnd), key=lambda c: c.score)
        if round_best.passed:
            result.stop_reason = "passed"
            break
        if target.testbench is None and round_best.report and round_best.report.level is Level.STATIC:
            result.stop_reason = "static-clean"  # nothing more to learn without a functional check
            break
        if budget.max_tokens is not None and result.completion_tokens >= budget.max_tokens:
            result.stop_reason = "tokens"
            break
        if budget.max_seconds is not None and time.monotonic() - t_start >= budget.max_seconds:
            result.stop_reason = "time"
            break
        if rnd == budget.max_rounds:
            break
        fb = build_feedback(round_best.report)  # type: ignore[arg-type]
        result.feedback.append(fb.text)
        emit(ev.feedback(rnd, fb.text))
        messages = repair_messages(first, round_best.text, fb.text)
    best = result.best
    if best is not None:
        result.passed, result.verilog, result.report, result.text = best.passed, best.verilog, best.report, best.text
        result.level = best.report.level.value if best.report else Level.FAILED.value
    result.total_s = time.monotonic() - t_start
    emit(ev.done(result.rounds_used, result.passed, result.stop_reason))
    return result


def _explain(prompt: str, mdl: Model, emit: EventCallback, seed: int | None, max_new_tokens: int,
             t_start: float) -> GenerationResult:
    """Prose answers: generated once and returned unverified; any code in them is lint-checked."""
    emit(ev.round_started(1, 1))
    req = GenerationRequest(messages=first_messages(prompt, explain=True), n=1, temperature=0.2, seed=seed,
                            max_new_tokens=max_new_tokens)
    gen = mdl.stream(req, on_chunk=lambda c: emit(ev.token(1, c.index, c.text)))
    text = gen.completions[0].text
    result = GenerationResult(passed=False, task=Task.EXPLAIN.value, verilog=None, report=None, rounds=[],
                              spec=None, stop_reason="explain", text=text, verified=False,
                              prompt_tokens=gen.prompt_tokens, completion_tokens=gen.completion_tokens,
                              generation_s=gen.duration_s)
    result.notes.append("this is an explanation: prose cannot be verified, so it is returned unchecked")
    code = extract_verilog(text).source
    if code:
        rep = verify_many([code], workers=1)[0]
        result.verilog, result.report = code, rep
        result.notes.append("the code in the answer " + ("is lint and synthesis clean (not functionally verified)"
                                                          if rep.level is Level.STATIC
                                                          else f"fails its checks ({rep.category.value})"))
    result.total_s = time.monotonic() - t_start
    emit(ev.done(1, False, "explain"))
    return result


def iter_generate(prompt: str, **kwargs: Any) -> Iterator[ev.Event]:
    """The streaming form of generate_verified: yields each Event as it happens.

    Takes the same keyword arguments as generate_verified (except on_event). Event types, in order:
    ``match`` (what the prompt matched, what it ignored, and which checks will run: data["mode"] is
    "suite", "testbench" or "static"), then per round ``round_started``, ``token``, ``stage``,
    ``candidate`` and ``feedback``; the last one is ``done``, with the GenerationResult in
    ``data["result"]``. Errors raised by the loop are re-raised here.

    Example::

        for event in iter_generate("Design a 4-bit counter.", model=m, samples=1):
            if event.type == "match":
                print(event.data["line"])
            elif event.type == "done":
                result = event.data["result"]
    """
    q: queue.Queue[ev.Event | BaseException | None] = queue.Queue()
    box: dict[str, GenerationResult] = {}

    def work() -> None:
        try:
            box["r"] = generate_verified(prompt, on_event=q.put, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put(exc)
        finally:
            q.put(None)

    threading.Thread(target=work, name="circuit-muse-loop", daemon=True).start()
    pending_done: ev.Event | None = None
    while True:
        item = q.get()
        if item is None:
            break
        if isinstance(item, BaseException):
            raise item
        if item.type == "done":
            pending_done = item
            continue
        yield item
    if pending_done is not None:
        pending_done.data["result"] = box.get("r")
        yield pending_done


async def agenerate_verified(prompt: str, **kwargs: Any) -> GenerationResult:
    """The async form of generate_verified (runs the loop in a worker thread)."""
    return await asyncio.to_thread(generate_verified, prompt, **kwargs)


async def aiter_generate(prompt: str, **kwargs: Any) -> AsyncIterator[ev.Event]:
    """Async streaming form of iter_generate."""
    loop = asyncio.get_running_loop()
    q: asyncio.Queue[ev.Event | BaseException | None] = asyncio.Queue()

    def work() -> None:
        try:
            for e in iter_generate(prompt, **kwargs):
                loop.call_soon_threadsafe(q.put_nowait, e)
        except BaseException as exc:  # noqa: BLE001
            loop.call_soon_threadsafe(q.put_nowait, exc)
        finally:
            loop.call_soon_threadsafe(q.put_nowait, None)

    threading.Thread(target=work, daemon=True).start()
    while True:
        item = await q.get()
        if item is None:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


