"""Instruction data at scale for circuit-muse-nano, in exactly the form the repair loop sends.

Each example is a chat (system, user[, assistant, user]) -> assistant answer, built the way
`circuit_muse.loop` builds it at inference:
- a plain-English request is phrased from a family design point (`phrase`) with a *training* template;
- the suites' matcher reads the request, and the matched suite's specification (`Suite.spec.prompt_text()`)
  is appended through the loop's own `first_messages`, so the model sees what the loop will show it;
- the answer is our renderer's design for the matched point (two coding styles), checked against the
  matched suite once per unique (design, suite) and reused across phrasings;
- repair examples take a rendered design with one real fault (`families.family_bugs`, plus a syntax and an
  interface fault), run it through the engine, and pair the loop's real feedback text (`build_feedback`)
  with the fixed design; a fault that does not fail is dropped.

Evaluation phrasings (`EVAL_TEMPLATES`) and eval design points (`families.split_configs`' eval half and
`held_out_points`) never reach training; `tests/test_data_scale.py` proves it.
"""
from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..models.base import Message
from .families import AXES, FamilyConfig, family_bugs, render, split_configs

__all__ = ["ASSERTION_CLAUSES", "ASSERTION_FRAMES", "DEBUG_TEMPLATES", "EVAL_TEMPLATES", "TRAIN_TEMPLATES", "Example",
           "ScaleReport", "assertion_requests", "build_examples", "describe", "eval_requests", "held_out_keys",
           "held_out_points", "matched_point", "phrase", "write_jsonl"]

# Sentence frames. `{d}` is the design description. Train and eval frames share no wording.
TRAIN_TEMPLATES = (
    "Design {d}.", "Write {d} in Verilog.", "Create {d}.", "Implement {d}.", "I need {d}.",
    "Please write synthesizable Verilog for {d}.", "Generate RTL for {d}.", "Build {d}.",
    "Can you design {d}?", "Write a Verilog module for {d}.", "Give me {d}.", "Code {d} in SystemVerilog.",
)
# "fix this" requests that carry the broken code (the loop classifies them as debug tasks)
DEBUG_TEMPLATES = (
    "Fix this {d}: {symptom}.\n\n```verilog\n{code}\n```",
    "This {d} is broken ({symptom}). Debug it:\n\n```verilog\n{code}\n```",
    "My {d} has a bug: {symptom}. Please fix it.\n```verilog\n{code}\n```",
)
EVAL_TEMPLATES = (
    "Produce {d}, please.", "We want {d} for our chip.", "Sketch the RTL of {d}.",
    "Make me {d}.", "Model {d} as hardware.",
)

_RESET = {("sync", "high"): ("synchronous active-high reset", "a synchronous reset (active high)"),
          ("sync", "low"): ("synchronous active-low reset", "a synchronous, active-low reset"),
          ("async", "high"): ("asynchronous active-high reset", "an asynchronous reset, active high"),
          ("async", "low"): ("asynchronous active-low reset", "an async active-low reset")}


def _reset_phrase(c: dict[str, str], rng: random.Random) -> str:
    return rng.choice(_RESET[(c["reset"], c["polarity"])])


def _join(parts: list[str]) -> str:
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def phrase(cfg: FamilyConfig, rng: random.Random, templates: tuple[str, ...] = TRAIN_TEMPLATES) -> str:
    """A plain-English request for a design point, worded with a seeded choice of synonyms and a frame."""
    return rng.choice(templates).format(d=describe(cfg, rng))


def describe(cfg: FamilyConfig, rng: random.Random) -> str:
    """The design description part of a request ("a 4-bit up counter with ...")."""
    c, p = cfg.choices(), cfg.pdict
    r = _reset_phrase(c, rng) if "reset" in c else ""
    if cfg.family == "register":
        w = p["WIDTH"]
        if c["kind"] == "shift":
            noun = rng.choice((f"a {w}-bit shift register", f"an {w}-bit serial-in shift register"
                               if str(w).startswith("8") else f"a {w}-bit serial-in shift register"))
        elif w == 1:
            noun = rng.choice(("a D flip-flop", "a DFF", "a D-type flip-flop"))
        else:
            noun = rng.choice((f"a {w}-bit register", f"a {w}-bit wide register", f"a {w}-bit data register"))
        extra = [rng.choice(("an enable", "a clock enable")) if c["enable"] == "en" else "", r]
        d = f"{noun} with {_join(extra)}"
    elif cfg.family == "counter":
        w = p["WIDTH"]
        kind = {"up": rng.choice(("up counter", "counter that counts up")),
                "down": rng.choice(("down counter", "counter that counts down")),
                "updown": rng.choice(("up/down counter", "up-down counter"))}[c["direction"]]
        over = {"wrap": "", "sat": "saturating ", "mod": ""}[c["overflow"]]
        extra = [rng.choice(("an enable", "a count enable")) if c["enable"] == "en" else "",
                 rng.choice(("synchronous load", "a parallel load")) if c["load"] == "load" else "", r]
        d = f"a {w}-bit {over}{kind}"
        if c["overflow"] == "mod":
            d += f" that counts modulo {p['MODULO']}"
        d += f" with {_join(extra)}"
    elif cfg.family == "fifo":
        kind = rng.choice(("synchronous FIFO", "sync FIFO")) if c["read"] == "reg" else \
            rng.choice(("first-word-fall-through FIFO", "FWFT FIFO"))
        extra = [f"depth {p['DEPTH']}", f"{p['WIDTH']}-bit data",
                 "a count output" if c["count"] == "count" else "",
                 f"almost-full at {p['AFULL']} and almost-empty at {p['AEMPTY']}" if c["almost"] == "almost" else "",
                 r]
        d = f"a {kind} with {_join(extra)}"
    elif cfg.family == "arbiter":
        kind = rng.choice(("round-robin arbiter", "round robin arbiter")) if c["policy"] == "rr" else \
            rng.choice(("fixed-priority arbiter", "fixed priority arbiter"))
        out = "registered grants" if c["output"] == "reg" else "combinational grants"
        d = f"a {kind} for {p['N']} requesters with {_join([out, r])}"
    elif cfg.family == "async_fifo":
        d = (f"an asynchronous FIFO with separate read and write clocks, depth {p['DEPTH']} and "
             f"{p['WIDTH']}-bit data")
    elif cfg.family == "axi_lite":
        d = f"an AXI4-Lite slave with {p['N_REGS']} registers and a {p['ADDR_WIDTH']}-bit address"
    else:
        raise ValueError(f"no phrasing for family {cfg.family!r}")
    return d


ASSERTION_REQUESTS = {
    "valid_hold": ("Write an SVA assertion that valid stays high until ready",
                   "Write a SystemVerilog assertion: once valid is asserted it must hold until ready",
                   "Create an assertion checking that VALID never drops before READY on a stream"),
    "data_stable": ("Write an SVA assertion that data stays stable while valid is high and ready is low",
                    "Write a SystemVerilog assertion checking the payload is stable until the handshake",
                    "Create an assertion that data must not change while valid waits for ready"),
    "onehot": ("Write an SVA assertion that the state vector is one-hot",
               "Write a SystemVerilog assertion checking that exactly one bit of state is set",
               "Create an assertion property that the FSM state stays onehot"),
}
EVAL_ASSERTION_REQUESTS = {
    "valid_hold": "Write an SVA assertion for the AXI valid/ready handshake: valid must stay high until ready.",
    "data_stable": "Check with an SVA assertion that AXI data is held stable while valid is high and ready low.",
    "onehot": "Add an SVA assertion that my state register is one-hot.",
}
# Training-only wording for the suites' three assertion properties: frames x property clauses ({w}: a payload
# width the matcher reads). Clauses that say what an eval or example prompt says are left out
# (`_EVAL_ASSERTION_CLAUSES`); tests/test_data_scale.py checks that none comes through.
ASSERTION_FRAMES = (
    "Write an SVA assertion that {d}.", "Write a SystemVerilog assertion checking that {d}.",
    "Create an assertion that {d}.", "I need an SVA checker: {d}.", "Give me a concurrent assertion that {d}.",
    "Code an SVA property asserting that {d}.", "Please write SVA to verify that {d}.",
    "Write an assertion (SVA) for this rule: {d}.", "Build an SVA checker module that verifies {d}.",
    "Generate a SystemVerilog assertion to make sure {d}.", "Can you write an assertion that {d}?",
    "Implement an SVA check that {d}.", "Write a protocol checker with an assert property: {d}.",
    "Assertion needed: {d}.",
)
ASSERTION_CLAUSES = {
    "valid_hold": (
        "valid stays high until ready", "once valid is asserted it holds until ready",
        "VALID never drops before READY", "valid is not deasserted while ready is low",
        "a stalled transfer (valid high, ready low) still has valid high on the next clock",
        "the source keeps valid asserted until the sink raises ready", "valid may only fall after a handshake",
        "a stream master holds VALID until READY", "the valid signal stays up until ready accepts it",
        "valid remains asserted until the handshake completes", "the producer never withdraws valid before ready",
        "VALID, once raised, is kept until READY is seen", "tvalid is held until tready",
    ),
    "data_stable": (
        "data stays stable while valid is high and ready is low", "the payload is stable until the handshake",
        "data must not change while valid waits for ready", "the {w}-bit data stays stable while valid waits for ready",
        "the {w}-bit payload does not change during a stall", "data is held constant while valid is high and ready is not",
        "wdata holds its value while a transfer is stalled", "the payload stays the same until ready accepts it",
        "a stalled transfer keeps its {w}-bit data stable on the next clock",
        "{w}-bit data does not change while valid is waiting for ready",
        "the data bus is stable whenever valid is high and ready is low",
    ),
    "onehot": (
        "the state vector is one-hot", "the grant vector is one-hot or zero", "at most one grant bit is set at a time",
        "gnt is onehot0", "the arbiter's grants are one-hot", "grants are mutually exclusive",
        "the FSM state stays onehot", "the select lines are one-hot or idle", "at most one bit of gnt is high",
        "no two grant bits are high together (one-hot)", "the grant bus is onehot0 at every clock edge",
    ),
}
_EVAL_ASSERTION_CLAUSES = ("axi valid stays high until ready", "valid must stay high until ready",
                           "held stable while valid is high and ready low", "my state register is one-hot",
                           "axi valid/ready handshake")
_ASSERTION_WIDTHS = (1, 4, 8, 12, 16, 24, 32, 64)
# what each assertion fault does on the suite's traffic (for "fix this checker" requests)
ASSERTION_SYMPTOMS = {
    "overlapping-implication": "it never fires, even on traffic that breaks the rule",
    "no-ready-in-antecedent": "it fires on legal traffic right after a handshake",
    "checks-ready": "it fires on legal stalls",
    "changed-not-stable": "it fires whenever the data is held",
    "onehot-not-onehot0": "it fires when no grant is active",
    "negated": "it fires on every legal cycle",
}
ASSERTION_DEBUG_TEMPLATES = (
    "Fix this SVA checker: {symptom}.\n\n```verilog\n{code}\n```",
    "This assertion is wrong ({symptom}). Debug it:\n\n```verilog\n{code}\n```",
    "My SystemVerilog assertion has a bug: {symptom}. Please fix it.\n```verilog\n{code}\n```",
)


def _is_eval_wording(req: str) -> bool:
    low = " ".join(req.lower().split())
    evals = [" ".join(t.lower().split()).rstrip(".") for t in EVAL_ASSERTION_REQUESTS.values()]
    return any(c in low for c in _EVAL_ASSERTION_CLAUSES) or any(e in low for e in evals)


def assertion_requests(rng: random.Random) -> list[tuple[str, str]]:
    """(request, property) for every training frame x clause of the suites' three properties (seeded widths).
    Requests the matcher sends to another property, and eval wording, are left out."""
    out = []
    for prop, clauses in ASSERTION_CLAUSES.items():
        for old in ASSERTION_REQUESTS[prop]:
            out.append((old, prop))
        for clause in clauses:
            for frame in ASSERTION_FRAMES:
                out.append((frame.format(d=clause.replace("{w}", str(rng.choice(_ASSERTION_WIDTHS)))), prop))
    return [(r, p) for r, p in out if not _is_eval_wording(r)]


def held_out_points() -> list[FamilyConfig]:
    """Design points kept for evaluation only: the builder's eval split."""
    return split_configs()[1]


def _point_key(family: str, variant: str, params: dict[str, int]) -> str:
    return f"{family}/{variant}/" + ",".join(f"{k}={v}" for k, v in sorted(params.items()))


def matched_point(request: str) -> str | None:
    """The suite point the loop's matcher picks for a request (what train/eval really split on)."""
    from ..suites import match

    m = match(request)
    if m is None:
        return None
    s = m.suite(tier="fast")
    return _point_key(m.family, s.variant, s.params)


def held_out_keys() -> set[str]:
    """Suite points never trained on: the eval split's points and whatever the eval requests match."""
    keys = {c.point_key() for c in held_out_points()}
    keys |= {k for r in eval_requests() if r["family"] != "assertion" and (k := matched_point(r["prompt"]))}
    return keys


# Design points of the original project's example prompts (their wording stays out of training; the design
# points go in, so the README's first command asks for something the model has seen).
EXAMPLE_POINTS = (
    FamilyConfig("counter", "updown-noen-load-wrap-async-high", (("MODULO", 10), ("WIDTH", 4))),
    FamilyConfig("counter", "up-en-noload-wrap-sync-high", (("MODULO", 10), ("WIDTH", 8))),
    FamilyConfig("counter", "up-en-noload-sat-sync-high", (("MODULO", 10), ("WIDTH", 8))),
    FamilyConfig("register", "reg-noen-async-low", (("WIDTH", 1),)),
    FamilyConfig("fifo", "reg-nocount-noalmost-sync-low", (("AEMPTY", 1), ("AFULL", 15), ("DEPTH", 16), ("WIDTH", 8))),
    FamilyConfig("arbiter", "rr-reg-sync-low", (("N", 4),)),
)


def _train_points(rng: random.Random, per_variant: int, extra: dict[str, int] | None = None
                  ) -> Iterator[FamilyConfig]:
    """Every variant of the axis families at a few parameter draws, plus async FIFO and AXI-Lite points.
    `extra` adds draws per family: {"fifo": 2} draws each FIFO variant twice more, {"axi_lite": 40} forty more
    AXI-Lite points (repeats of a point only add phrasings)."""
    extra = extra or {}
    from .families import _all_variants, _params_for

    for cfg in EXAMPLE_POINTS:
        for _ in range(4):
            yield cfg

    for family in ("register", "counter", "fifo", "arbiter"):
        for v in _all_variants(family):
            for _ in range(per_variant + extra.get(family, 0)):
                params = _params_for(family, v, rng)
                yield FamilyConfig(family, v, tuple(sorted(params.items())))
    for family, v in (("async_fifo", "default"), ("axi_lite", "slverr")):
        for _ in range(per_variant * 8 + extra.get(family, 0)):
            params = _params_for(family, v, rng)
            yield FamilyConfig(family, v, tuple(sorted(params.items())))


@dataclass
class Example:
    """One training conversation; `messages` end with the assistant answer."""

    id: str
    kind: str                 # "generate" or "repair"
    family: str
    point: str                # family/variant/params of the matched suite
    messages: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "family": self.family, "point": self.point,
                "messages": self.messages}


@dataclass
class ScaleReport:
    points: int = 0
    unique_designs_verified: int = 0
    examples: int = 0
    repairs: int = 0
    debug: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, why: str) -> None:
        self.dropped[why] = self.dropped.get(why, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _msgs(ms: list[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in ms]


def _code(text: str) -> str:
    return f"```verilog\n{text.strip()}\n```"


def _generic_faults(text: str) -> list[tuple[str, str]]:
    """Faults every family has: a lost semicolon (syntax) and a misspelt port use (undeclared)."""
    out = []
    i = text.find(";\n", text.find(");") + 2)
    if i > 0:
        out.append(("missing-semicolon", text[:i] + text[i + 1:]))
    return out


def _suite_for(family: str, variant: str, params: dict[str, int], parameterized: bool | None, tier: str):
    from ..suites import get_suite

    return get_suite(family, None if variant == "default" else variant, params, tier=tier,
                     parameterized=parameterized)


def build_examples(*, seed: int = 7, per_variant: int = 2, phrasings: int = 6, repairs_per_point: int = 2,
                   limit_points: int | None = None, workers: int = 2, repair_every: int = 1,
                   families: tuple[str, ...] | None = None, extra: dict[str, int] | None = None,
                   family_phrasings: dict[str, int] | None = None) -> tuple[list[Example], ScaleReport]:
    """Build verified examples. Returns (examples, report); every example's answer passed its suite
    (fast tier, with the options the suite asks for, as the loop verifies), every repair's wrong design failed
    it. Only every `repair_every`-th point gets repair and debug examples (verification time is the cost of a
    point: answers are checked for all of them). `extra` adds parameter draws per family (`_train_points`),
    `family_phrasings` overrides `phrasings` per family."""
    from ..engine.many import verify_many
    from ..loop.feedback import build_feedback
    from ..loop.prompts import first_messages, repair_messages
    from ..suites import match

    rng = random.Random(seed)
    report = ScaleReport()
    held = held_out_keys()
    family_phrasings = family_phrasings or {}
    # group requests by the matched point: design verified once, reused across phrasings
    groups: dict[tuple[str, str, str, bool], dict[str, Any]] = {}
    for cfg in _train_points(rng, per_variant, extra):
        if families and cfg.family not in families:
            continue
        for _ in range(family_phrasings.get(cfg.family, phrasings)):
            req = phrase(cfg, rng)
            m = match(req)
            if m is None or m.family != cfg.family:
                report.drop("matcher-other-family")
                continue
            suite = m.suite(tier="fast")
            key = (m.family, suite.variant, json.dumps(suite.params, sort_keys=True), bool(suite.parameterized))
            if _point_key(m.family, suite.variant, suite.params) in held:
                report.drop("held-out-point")
                continue
            g = groups.setdefault(key, {"suite": suite, "requests": []})
            if req not in g["requests"]:
                g["requests"].append(req)
    if not families or "assertion" in families:
        for req, prop in assertion_requests(rng):
            m = match(req)
            if m is None or m.family != "assertion":
                report.drop("matcher-other-family")
                continue
            suite = m.suite(tier="fast")
            if suite.variant != prop:
                report.drop("assertion-matched-other-property")
                continue
            key = ("assertion", suite.variant, json.dumps(suite.params, sort_keys=True), False)
            g = groups.setdefault(key, {"suite": suite, "requests": []})
            if req not in g["requests"]:
                g["requests"].append(req)
    items = sorted(groups.items())
    if limit_points is not None:
        rng.shuffle(items)
        items = sorted(items[:limit_points])
    examples: list[Example] = []
    for n_point, ((family, variant, pjson, parameterized), g) in enumerate(items):
        report.points += 1
        with_repairs = n_point % max(1, repair_every) == 0
        suite, params = g["suite"], json.loads(pjson)
        point = _point_key(family, variant, params)
        symptoms: dict[str, str] = {}
        cfg: FamilyConfig | None = None
        if family == "assertion":
            from .sva import suite_answer_styles, suite_faults

            ports = [(pt.name, pt.width) for pt in suite.contract.ports]
            answers = suite_answer_styles(variant, params, ports)
            # faults: each applied to one answer style in turn; fault i's fix is the style it came from
            faults: list[tuple[str, str]] = []
            bases: list[str] = []
            if with_repairs:
                for k, (name, wrong) in enumerate(suite_faults(variant, answers[n_point % len(answers)])):
                    base = answers[(n_point + k) % len(answers)]
                    alt = dict(suite_faults(variant, base)).get(name)
                    faults.append((name, alt or wrong))
                    bases.append(base if alt else answers[n_point % len(answers)])
            symptoms = {n: ASSERTION_SYMPTOMS[n] for n, _ in faults if n in ASSERTION_SYMPTOMS}
        else:
            answers = []
            for style in ("a", "b"):
                cfg = FamilyConfig(family, variant, tuple(sorted(params.items())), parameterized, style)
                try:
                    answers.append(render(cfg))
                except Exception:  # noqa: BLE001 - a renderer gap drops the point, reported
                    report.drop("render-failed")
            answers = list(dict.fromkeys(answers))
            if not answers:
                continue
            bugs = [(b, t) for b in family_bugs(cfg, answers[0]) if (t := b.apply(answers[0]))]
            bugs = rng.sample(bugs, min(len(bugs), repairs_per_point))
            symptoms = {b.name: b.symptom for b, _ in bugs}
            faults = [(b.name, t) for b, t in bugs] + _generic_faults(answers[0]) if with_repairs else []
            bases = [answers[0]] * len(faults)
        texts = [_code(a) for a in answers] + [_code(t) for _, t in faults]
        opts = suite.verify_options() if hasattr(suite, "verify_options") else None
        reps = verify_many(texts, testbench=suite, contract=suite.contract, options=opts, workers=workers)
        report.unique_designs_verified += len(texts)
        passed = {a for a, r in zip(answers, reps[:len(answers)], strict=True) if r.passed and r.functional_tested}
        good = [a for a in answers if a in passed]
        report.dropped["answer-failed"] = report.dropped.get("answer-failed", 0) + len(answers) - len(good)
        if not good:
            continue
        spec_text = suite.spec.prompt_text()
        for i, req in enumerate(g["requests"]):
            first = first_messages(req, spec_text=spec_text, contract=suite.contract)
            ans = good[i % len(good)]
            examples.append(Example(f"gen/{point}/{i}", "generate", family, point,
                                    _msgs(first) + [{"role": "assistant", "content": _code(ans)}]))
        for (name, wrong), base, rep in zip(faults, bases, reps[len(answers):], strict=True):
            if rep.passed:
                report.drop("fault-passed")
                continue
            if base not in passed:
                report.drop("fault-base-failed")
                continue
            fb = build_feedback(rep).text
            req = g["requests"][rng.randrange(len(g["requests"]))]
            first = first_messages(req, spec_text=spec_text, contract=suite.contract)
            msgs = repair_messages(first, _code(wrong), fb)
            examples.append(Example(f"repair/{point}/{name}", "repair", family, point,
                                    _msgs(msgs) + [{"role": "assistant", "content": _code(base)}]))
            report.repairs += 1
            if name not in symptoms:
                continue
            if cfg is not None:   # the same fault asked as a "fix this" request
                dreq = rng.choice(DEBUG_TEMPLATES).format(d=describe(cfg, rng).removeprefix("a ").removeprefix(
                    "an "), symptom=symptoms[name], code=wrong.strip())
            else:
                dreq = rng.choice(ASSERTION_DEBUG_TEMPLATES).format(symptom=symptoms[name], code=wrong.strip())
            if matched_point(dreq) != point:
                report.drop("debug-request-matched-elsewhere")
                continue
            dfirst = first_messages(dreq, spec_text=spec_text, contract=suite.contract)
            examples.append(Example(f"debug/{point}/{name}", "debug", family, point,
                                    _msgs(dfirst) + [{"role": "assistant", "content": _code(base)}]))
    report.examples = len(examples)
    report.debug = sum(e.kind == "debug" for e in examples)
    return examples, report


def eval_requests(seed: int = 99) -> list[dict[str, Any]]:
    """Held-out evaluation prompts: eval design points phrased with eval-only templates, plus assertions."""
    rng = random.Random(seed)
    out = []
    for cfg in held_out_points():
        if cfg.family not in AXES and cfg.family not in ("async_fifo", "axi_lite"):
            continue
        out.append({"id": f"eval/{cfg.point_key()}", "family": cfg.family, "point": cfg.point_key(),
                    "prompt": phrase(cfg, rng, EVAL_TEMPLATES)})
    for prop, req in EVAL_ASSERTION_REQUESTS.items():
        out.append({"id": f"eval/assertion/{prop}", "family": "assertion", "point": f"assertion/{prop}",
                    "prompt": req})
    return out


def write_jsonl(examples: list[Example], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for e in examples:
            f.write(json.dumps(e.to_dict()) + "\n")


def main(argv: list[str] | None = None) -> int:
    """`python -m circuit_muse.data.scale OUT.jsonl`: build the set and write it with its report."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-variant", type=int, default=3)
    ap.add_argument("--phrasings", type=int, default=14)
    ap.add_argument("--repairs-per-point", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repair-every", type=int, default=1)
    ap.add_argument("--extra", default="", help="more parameter draws per family, e.g. fifo=2,axi_lite=40")
    ap.add_argument("--family-phrasings", default="", help="phrasings per family, e.g. counter=8")
    a = ap.parse_args(argv)
    extra = {k: int(v) for k, v in (x.split("=") for x in a.extra.split(",") if x)}
    fphr = {k: int(v) for k, v in (x.split("=") for x in a.family_phrasings.split(",") if x)}
    examples, report = build_examples(seed=a.seed, per_variant=a.per_variant, phrasings=a.phrasings,
                                      repairs_per_point=a.repairs_per_point, workers=a.workers,
                                      repair_every=a.repair_every, extra=extra, family_phrasings=fphr)
    write_jsonl(examples, a.out)
    a.out.with_suffix(".report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
