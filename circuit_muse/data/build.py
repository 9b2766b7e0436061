"""`circuit-muse data build`: assemble candidate records from the sources, verify every one, keep the ones
that pass, and write the JSONL set plus the held-out family eval prompts.

Candidates come from
- seed examples: each hand-written design at its default parameters, each family training design point,
  each debug bug, each explain Q&A, each assertion property at its default parameters;
- augmentation: parameter sweeps (other design points, family design points, property parameters) and
  paraphrase templates (a second phrasing of selected instructions, chosen with a seeded rng).
Every candidate is checked exactly as `data check` does; failures are dropped and listed in the report.
"""
from __future__ import annotations

import json
import random
import re
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..train.records import Record, parse_record
from . import prompts as P
from .check import CheckResult, check_records, design_plan, family_key, summarize
from .families import FamilyConfig, family_bugs, render, split_configs
from .sources import SOURCE_DIR, DesignSource, all_designs, module_header
from .sva import ASSERTION_FIXES, CATALOG, suite_answer

HERE = Path(__file__).resolve().parent
DATASET_PATH = HERE / "circuit_muse_v1.jsonl"
EVAL_PROMPTS_PATH = HERE / "eval_prompts.jsonl"
REPORT_PATH = HERE / "build_report.json"
DEFAULT_SEED = 1234

FAMILY_STAGE = {"register": 1, "counter": 2, "fifo": 3, "arbiter": 3, "async_fifo": 4, "axi_lite": 4}


@dataclass
class Candidate:
    record: dict[str, Any]
    origin: str            # "seed", "sweep" or "paraphrase"
    source: str            # where it came from, for the report


@dataclass
class BuildReport:
    candidates: int = 0
    kept: int = 0
    dropped: list[dict[str, Any]] = field(default_factory=list)
    by_origin: dict[str, dict[str, int]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    eval_prompts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"candidates": self.candidates, "kept": self.kept, "dropped": self.dropped,
                "by_origin": self.by_origin, "summary": self.summary, "eval_prompts": self.eval_prompts}


def _code(text: str) -> str:
    return f"```verilog\n{text.strip()}\n```"


def _pstr(params: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items()) or "default"


def _rec(rid: str, task: str, stage: int, instruction: str, output: str, family: str, params: dict[str, Any],
         input_: str = "") -> dict[str, Any]:
    return {"id": rid, "task": task, "stage": stage, "instruction": instruction.strip(), "input": input_,
            "output": output.strip(), "family": family, "params": params, "checks": []}


def _stage_of_family(cfg: FamilyConfig) -> int:
    c = cfg.choices()
    if cfg.family == "counter":
        simple = c["load"] == "noload" and c["overflow"] == "wrap" and c["direction"] != "updown"
        return 1 if simple else 2
    if cfg.family == "fifo":
        return 4 if (c["almost"] == "almost" and c["count"] == "count") else 3
    if cfg.family == "arbiter":
        return 3 if c["policy"] == "rr" else 2
    return FAMILY_STAGE[cfg.family]


def _family_suite(cfg: FamilyConfig, tier: str = "fast"):
    from ..suites import get_suite

    return get_suite(cfg.family, None if cfg.variant == "default" else cfg.variant, cfg.pdict, tier=tier,
                     parameterized=cfg.parameterized)


def _symptom(report) -> str:
    """One line describing how the buggy design fails, taken from the engine's report."""
    for st in report.stages:
        if st.passed or st.skipped:
            continue
        if st.name == "simulate":
            mm = st.simulation.mismatches[0] if st.simulation and st.simulation.mismatches else None
            if mm and mm.signal and mm.expected is not None and mm.got is not None:
                where = f" at cycle {mm.cycle}" if mm.cycle is not None else ""
                return (f"The simulation regression fails: `{mm.signal}` mismatches{where} "
                        f"(expected {mm.expected}, got {mm.got}).")
            errs = [d.message for d in st.diagnostics if d.severity.value == "error"]
            return "The simulation regression fails" + (f": {errs[0]}" if errs else ".")
        errs = [d for d in st.diagnostics if d.severity.value == "error"]
        if errs:
            d = errs[0]
            tool = {"iverilog": "Icarus", "verilator": "Verilator lint", "yosys": "Yosys synthesis",
                    "slang": "The parser", "contract": "The interface check"}.get(d.tool or "", d.tool or st.name)
            return f"{tool} reports an error: {d.message}"
        return f"The {st.name} stage fails ({report.category.value})."
    return ""


# ---------------------------------------------------------------------------------------------------
# candidate builders


def _design_generate(d: DesignSource, rng: random.Random) -> list[Candidate]:
    out = []
    for i, pt in enumerate(d.points()):
        text = d.design(pt)
        title = P.article_title(d.text(d.title, pt))
        instr = P.generate_instruction(rng, d.top, title, d.text(d.spec, pt).splitlines(), module_header(text))
        answer = _code(text)
        if d.notes and d.stage >= 3:
            answer += "\n\nDesign notes:\n" + d.text(d.notes, pt)
        params = {k: pt[k] for k in pt}
        out.append(Candidate(_rec(f"generate/{d.name}/{_pstr(params)}", "generate", d.stage, instr, answer,
                                  d.family, params), "seed" if i == 0 else "sweep", d.name))
    # paraphrase augmentation: the default point asked a second way (industry designs only)
    if d.stage >= 3:
        pt = d.points()[0]
        text = d.design(pt)
        title = P.article_title(d.text(d.title, pt))
        first = out[0].record["instruction"]
        instr = first
        for _ in range(20):   # a phrasing different from the seed's
            instr = P.generate_instruction(rng, d.top, title, d.text(d.spec, pt).splitlines(), module_header(text))
            if instr != first:
                break
        out.append(Candidate(_rec(f"generate/{d.name}/{_pstr(pt)}/p1", "generate", d.stage, instr, _code(text),
                                  d.family, dict(pt)), "paraphrase", d.name))
    return out


def _design_debug(d: DesignSource, rng: random.Random, symptom_of: Callable[[str, Any], str]) -> list[Candidate]:
    out = []
    points = d.points()
    for bi, bug in enumerate(d.bugs):
        # the default point, plus (augmentation) the bug replayed at one sweep point where it applies
        chosen = [points[0]] + ([rng.choice(points[1:])] if len(points) > 1 and bi % 2 == 0 else [])
        for k, pt in enumerate(chosen):
            good = d.design(pt)
            if bug.find not in good:
                continue
            bad = good.replace(bug.find, bug.replace)
            title = P.article_title(d.text(d.title, pt))
            plan = design_plan(d.family, pt, tier="fast")
            log = symptom_of(bad, plan)
            obs = d.text(bug.symptom, pt)
            instr = "\n".join([
                P.pick(rng, P.DEBUG_OPENERS).format(module=d.top, title=title),
                *([f"Observed: {obs}."] if obs else []),
                *([log] if log else []),
                "",
                "Intended behaviour:",
                P.bullets(d.text(d.spec, pt).splitlines()),
                "",
                P.pick(rng, P.DEBUG_ASKS),
            ])
            answer = (f"**Root cause:** {d.text(bug.explanation, pt)}\n\n"
                      + (f"**Fix:** {d.text(bug.fix, pt)}\n\n" if bug.fix else "")
                      + "Corrected module:\n\n" + _code(good))
            out.append(Candidate(_rec(f"debug/{d.name}/bug{bi}/{_pstr(pt)}", "debug", d.debug_stage, instr, answer,
                                      d.family, dict(pt), bad), "seed" if k == 0 else "sweep", d.name))
    return out


def _design_explain(d: DesignSource, rng: random.Random) -> list[Candidate]:
    out = []
    pt = d.points()[0]
    code = d.design(pt)
    for ei, ex in enumerate(d.explains):
        instr = d.text(ex.question, pt) + "\n\nThe module:"
        out.append(Candidate(_rec(f"explain/{d.name}/why{ei}", "explain", ex.stage, instr, d.text(ex.answer, pt),
                                  d.family, dict(pt), code), "seed", d.name))
    if not d.explains:
        # an explain-what answer assembled from the specification the design was verified against
        title = d.text(d.title, pt)
        answer = (f"This module implements {P.article_title(title)}.\n\n"
                  + P.bullets(d.text(d.spec, pt).splitlines())
                  + ("\n\n" + d.text(d.notes, pt) if d.notes else ""))
        stage = 3 if d.stage <= 3 else 4
        instr = P.pick(rng, P.EXPLAIN_WHAT).format(module=d.top)
        out.append(Candidate(_rec(f"explain/{d.name}/what", "explain", stage, instr, answer,
                                  d.family, dict(pt), code), "seed", d.name))
    return out


def _family_generate(cfgs: list[FamilyConfig], rng: random.Random) -> list[Candidate]:
    out = []
    seen: set[str] = set()
    for cfg in cfgs:
        suite = _family_suite(cfg)
        spec = suite.spec
        title = P.article_title(spec.title)
        instr = P.generate_instruction(rng, spec.module, title, P.spec_lines(spec), spec.contract.header(),
                                       params_note=P.suite_params_note(spec))
        # the first design point of a family is its seed; the others come from the variant/parameter sweep
        origin = "sweep" if cfg.family in seen else "seed"
        seen.add(cfg.family)
        out.append(Candidate(_rec(f"generate/{cfg.family}/{cfg.variant}/{_pstr(cfg.pdict)}", "generate",
                                  _stage_of_family(cfg), instr, _code(render(cfg)), cfg.family,
                                  cfg.record_params()), origin, cfg.family))
    return out


def _family_debug(cfgs: list[FamilyConfig], rng: random.Random, symptom_of: Callable[[str, Any], str],
                  per_family: dict[str, int]) -> list[Candidate]:
    out = []
    used: Counter[str] = Counter()
    bug_use: Counter[str] = Counter()
    for cfg in cfgs:
        if used[cfg.family] >= per_family.get(cfg.family, 0):
            continue
        good = render(cfg)
        bugs = family_bugs(cfg, good)
        if not bugs:
            continue
        # prefer the bug kinds used least so far in this family
        bugs.sort(key=lambda b: (bug_use[cfg.family + b.name], rng.random()))
        bug = bugs[0]
        bad = bug.apply(good)
        if bad is None:
            continue
        # The choice does not look at the engine: a mutant that turns out harmless for this configuration
        # is dropped by the verification step (and listed in the build report), like any failed expansion.
        plan = design_plan(cfg.family, cfg.record_params(), tier="fast")
        log = symptom_of(bad, plan)
        suite = _family_suite(cfg)
        spec = suite.spec
        instr = "\n".join([
            P.pick(rng, P.DEBUG_OPENERS).format(module=spec.module, title=P.article_title(spec.title)),
            f"Observed: {bug.symptom}.", *([log] if log else []), "", "Intended behaviour:",
            P.bullets(P.spec_lines(spec)), "", P.pick(rng, P.DEBUG_ASKS)])
        answer = f"**Root cause:** {bug.explanation}\n\nCorrected module:\n\n{_code(good)}"
        stage = 3 if _stage_of_family(cfg) <= 3 else 4
        out.append(Candidate(_rec(f"debug/{cfg.family}/{cfg.variant}/{_pstr(cfg.pdict)}/{bug.name}", "debug", stage,
                                  instr, answer, cfg.family, cfg.record_params(), bad), "seed", cfg.family))
        used[cfg.family] += 1
        bug_use[cfg.family + bug.name] += 1
    return out


def _explain_file(rng: random.Random, eval_keys: set[str]) -> list[Candidate]:
    data = tomllib.loads((SOURCE_DIR / "explain.toml").read_text(encoding="utf-8"))
    out = []
    for i, e in enumerate(data.get("family", [])):
        params = {k: int(v) for k, v in e["params"].items()}
        cfg = FamilyConfig(e["family"], e["variant"], tuple(sorted(params.items())), True)
        if cfg.point_key() in eval_keys:
            raise ValueError(f"explain.toml uses an eval configuration: {cfg.point_key()}")
        code = render(cfg)
        out.append(Candidate(_rec(f"explain/{cfg.family}/why{i}", "explain", int(e.get("stage", 3)),
                                  e["question"].strip() + "\n\nThe module:", e["answer"], cfg.family,
                                  cfg.record_params(), code), "seed", cfg.family))
    for e in data.get("concept", []):
        out.append(Candidate(_rec(f"explain/concept/{e['name']}", "explain", int(e.get("stage", 3)),
                                  e["question"], e["answer"], f"other:concept-{e['name']}", {}), "seed", "concept"))
    return out


def _assertion_instruction(rng: random.Random, module: str, title: str, text: str, ports: list[tuple[str, int]],
                           opener: str | None = None) -> str:
    port_lines = [f"`{n}`: input, {w} bit{'s' if w > 1 else ''}" for n, w in ports]
    return "\n".join([
        (opener or P.pick(rng, P.ASSERT_OPENERS)).format(module=module, title=title), "",
        "Property:", P.bullets([text]), "",
        "Ports (inputs only): " + "; ".join(["`clk`: input, 1 bit", *port_lines]) + ".",
        "Use `@(posedge clk)`; unless the property is about the reset itself, disable it while `rst_n` is 0. "
        "Report a failure with `$error`.",
    ])


def _assertions(rng: random.Random) -> list[Candidate]:
    out = []
    for name, prop in CATALOG.items():
        for i, pt in enumerate(prop.points()):
            widths = prop.widths(pt)
            instr = _assertion_instruction(rng, prop.module, prop.title, prop.describe(pt), widths)
            answer = _code(prop.answer(pt)) + ("\n\n" + prop.why if prop.why else "")
            params = {"property": name, **pt}
            out.append(Candidate(_rec(f"assertion/{name}/{_pstr(pt)}", "assertion", prop.stage, instr, answer,
                                      "assertion", params), "seed" if i == 0 else "sweep", name))
        if prop.stage >= 4 or name in ("req_ack_window", "fifo_no_overflow", "grant_subset_req"):
            pt = prop.points()[0]
            first = next(c.record["instruction"] for c in out if c.record["id"] == f"assertion/{name}/{_pstr(pt)}")
            opener = next(o for o in P.ASSERT_OPENERS[rng.randrange(len(P.ASSERT_OPENERS)):] + P.ASSERT_OPENERS
                          if not first.startswith(o.format(module=prop.module, title=prop.title)))
            instr = _assertion_instruction(rng, prop.module, prop.title, prop.describe(pt), prop.widths(pt),
                                           opener=opener)
            out.append(Candidate(_rec(f"assertion/{name}/{_pstr(pt)}/p1", "assertion", prop.stage, instr,
                                      _code(prop.answer(pt)), "assertion", {"property": name, **pt}),
                                 "paraphrase", name))
    from ..suites import get_suite

    for prop_name, points in (("valid_hold", [{}]), ("data_stable", [{"WIDTH": 8}, {"WIDTH": 32}]),
                              ("onehot", [{"N": 4}, {"N": 16}])):
        for i, pt in enumerate(points):
            suite = get_suite("assertion", prop_name, pt)
            spec = suite.spec
            widths = [(p.name, p.width) for p in spec.contract.inputs if p.name != "clk"]
            text, why = suite_answer(prop_name, pt)
            instr = _assertion_instruction(rng, spec.module, spec.title, spec.behaviour[0], widths)
            out.append(Candidate(_rec(f"assertion/{prop_name}/{_pstr(pt)}", "assertion", 3, instr,
                                      _code(text) + "\n\n" + why, "assertion", {"property": prop_name, **pt}),
                                 "seed" if i == 0 else "sweep", prop_name))
    for fx in ASSERTION_FIXES:
        prop = CATALOG[fx.prop]
        pt = prop.points()[0]
        good = prop.answer(pt)
        bad = good.replace(fx.find, fx.replace)
        instr = "\n".join([
            P.pick(rng, P.ASSERT_FIX_OPENERS).format(module=prop.module, title=prop.title),
            f"Observed: {fx.symptom}.", "", "Intended property:", P.bullets([prop.describe(pt)]), "",
            "Explain the mistake and give the corrected checker."])
        answer = f"**Root cause:** {fx.explanation}\n\nCorrected checker:\n\n{_code(good)}"
        out.append(Candidate(_rec(f"assertion/{fx.prop}/fix", "assertion", 4, instr, answer, "assertion",
                                  {"property": fx.prop, **pt}, bad), "seed", fx.prop))
    return out


# ---------------------------------------------------------------------------------------------------
# eval prompts


def eval_prompts(evals: list[FamilyConfig]) -> list[dict[str, Any]]:
    """Held-out family prompts in the suites' canonical wording, for configurations no training record uses."""
    out = []
    for cfg in evals:
        suite = _family_suite(cfg)
        out.append({"id": f"eval/{cfg.family}/{cfg.variant}/{_pstr(cfg.pdict)}", "family": cfg.family,
                    "variant": suite.variant, "params": cfg.pdict, "parameterized": cfg.parameterized,
                    "module": suite.contract.module, "prompt": suite.spec.prompt_text()})
    return out


# ---------------------------------------------------------------------------------------------------


def candidates(seed: int = DEFAULT_SEED, *, symptom_of: Callable[[str, Any], str] | None = None
               ) -> tuple[list[Candidate], list[FamilyConfig]]:
    """Every candidate record (unverified) and the held-out eval configurations."""
    rng = random.Random(seed)
    train, evals = split_configs()
    eval_keys = {c.point_key() for c in evals}
    symptom_of = symptom_of or _engine_symptom
    cands: list[Candidate] = []
    designs = all_designs()
    for d in designs.values():
        cands += _design_generate(d, rng)
    cands += _family_generate(train, rng)
    for d in designs.values():
        cands += _design_debug(d, rng, symptom_of)
    shuffled = list(train)
    rng.shuffle(shuffled)
    cands += _family_debug(shuffled, rng, symptom_of,
                           {"register": 5, "counter": 8, "fifo": 8, "arbiter": 5, "async_fifo": 2, "axi_lite": 2})
    for d in designs.values():
        cands += _design_explain(d, rng)
    cands += _explain_file(rng, eval_keys)
    cands += _assertions(rng)
    ids = Counter(c.record["id"] for c in cands)
    dup = [i for i, n in ids.items() if n > 1]
    if dup:
        raise ValueError(f"duplicate candidate ids: {dup[:5]}")
    return cands, evals


def _engine_symptom(bad: str, plan) -> str:
    from ..engine.pipeline import verify

    rep = verify(bad, top=plan.top, contract=plan.contract, testbench=plan.testbench, options=plan.options)
    return "" if rep.passed else _symptom(rep)


def build(out_path: Path | str = DATASET_PATH, *, eval_path: Path | str | None = EVAL_PROMPTS_PATH,
          report_path: Path | str | None = REPORT_PATH, seed: int = DEFAULT_SEED, workers: int = 2,
          tier: str = "both", use_cache: bool = True,
          on_result: Callable[[CheckResult], None] | None = None,
          on_start: Callable[[int], None] | None = None) -> BuildReport:
    """on_start(n) is called once the n candidates are known, before any is verified (for progress bars)."""
    cands, evals = candidates(seed)
    recs: list[Record] = [parse_record(c.record, c.record["id"]) for c in cands]
    if on_start:
        on_start(len(recs))
    results = check_records(recs, workers=workers, tier=tier, use_cache=use_cache, on_result=on_result)
    report = BuildReport(candidates=len(cands))
    kept: list[dict[str, Any]] = []
    for cand, res in zip(cands, results, strict=True):
        slot = report.by_origin.setdefault(cand.origin, {"candidates": 0, "kept": 0})
        slot["candidates"] += 1
        if res.passed:
            rec = dict(cand.record)
            rec["checks"] = res.checks
            kept.append(rec)
            slot["kept"] += 1
        else:
            report.dropped.append({"id": res.id, "origin": cand.origin, "problems": res.problems})
    report.kept = len(kept)
    report.summary = summarize(r for r in results if r.passed)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for rec in kept:
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")
    if eval_path:
        ev = eval_prompts(evals)
        with Path(eval_path).open("w", encoding="utf-8") as fh:
            for e in ev:
                fh.write(json.dumps(e, ensure_ascii=False) + "\n")
        report.eval_prompts = len(ev)
    if report_path:
        Path(report_path).write_text(json.dumps(report.to_dict(), indent=1, sort_keys=True) + "\n")
    return report


def family_group(rec: Record) -> str:
    return family_key(rec.family)


def normalize_prompt(text: str) -> str:
    """Whitespace- and case-insensitive form of a prompt, for overlap tests."""
    return re.sub(r"\s+", " ", text).strip().lower()
