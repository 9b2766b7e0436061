"""Suite: a Testbench with a golden model, a fast vector-replay tier (Icarus) and a full cocotb tier.

Tiers (`tier=`):
- "fast": the golden model writes stimulus and expected vectors; a jinja2-rendered self-checking Verilog
  bench replays them under iverilog+vvp. Costs one Icarus compile and a few ms of simulation.
- "full": the cocotb suite (longer seeded random traffic, property checks; Icarus or Verilator).
- "both" (default): fast first, the cocotb suite only if the fast tier passed.

Verdicts come only from nonce-tagged lines printed by the trusted bench, or from cocotb's results.xml.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import jinja2

from ..contract import Contract, PortSpec
from ..errors import InputError
from ..testbench.base import SimContext, SimOutcome, Testbench
from ..testbench.verilog_tb import run_bench

TIERS = ("fast", "full", "both")
HERE = Path(__file__).resolve().parent
PKG_ROOT = HERE.parent.parent  # the directory that holds the circuit_muse package


@lru_cache(maxsize=1)
def jinja_env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("circuit_muse.suites", "templates"),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=1)
def rtl_env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("circuit_muse.suites", "rtl"),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


def render_rtl(name: str, **kw: Any) -> str:
    text = rtl_env().get_template(name).render(**kw)
    return re.sub(r"\n{3,}", "\n\n", text)


@dataclass(frozen=True)
class Axis:
    """One feature choice of a family (direction, reset style, ...). The first value is the default."""

    name: str
    values: tuple[str, ...]
    help: str = ""


def _src_hash(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


@lru_cache(maxsize=1)
def code_hash() -> str:
    """Hash of the suite code and templates: part of every fingerprint, so cached verdicts expire with it."""
    files = [p for p in HERE.rglob("*") if p.is_file() and p.suffix in (".py", ".j2", ".v", ".sv")]
    return _src_hash(files)


def mask(width: int) -> int:
    return (1 << width) - 1


class Suite(Testbench):
    """A family's reference testbench for one variant and parameter set; it is a Testbench, so
    `verify(design, testbench=suite, contract=suite.contract)` runs it."""

    kind = "suite"
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    axes: ClassVar[tuple[Axis, ...]] = ()
    presets: ClassVar[dict[str, str]] = {}
    default_params: ClassVar[dict[str, int]] = {}
    param_help: ClassVar[dict[str, str]] = {}
    parameterized_default: ClassVar[bool] = False
    hdl_params: ClassVar[tuple[str, ...]] = ()  # names required as HDL parameters when parameterized
    cocotb_module: ClassVar[str] = "test_cycle.py"

    def __init__(self, variant: str | None = None, params: dict[str, int] | None = None, *,
                 tier: str = "both", seed: int | None = None, parameterized: bool | None = None) -> None:
        if tier not in TIERS:
            raise InputError(f"unknown tier {tier!r}; choose from {list(TIERS)}")
        self.tier = tier
        self.seed = seed
        self.choices = self.resolve_variant(variant)
        self.variant = "-".join(self.choices[a.name] for a in self.axes) if self.axes else "default"
        self.parameterized = self.parameterized_default if parameterized is None else parameterized
        self.params = self.resolve_params(params or {})
        self.spec: Spec = self.build_spec()

    # ----- variants and parameters -------------------------------------------------------------
    @classmethod
    def resolve_variant(cls, variant: str | None) -> dict[str, str]:
        choices = {a.name: a.values[0] for a in cls.axes}
        if not variant or variant == "default":
            return choices
        tokens = [t for t in re.split(r"[-+,/\s]+", variant.strip().lower()) if t]
        expanded: list[str] = []
        for t in tokens:
            is_token = any(t in a.values for a in cls.axes)
            expanded += re.split(r"[-+,/\s]+", cls.presets[t]) if t in cls.presets and not is_token else [t]
        for t in expanded:
            if t == "default":
                continue
            axis = next((a for a in cls.axes if t in a.values), None)
            if axis is None:
                known = ", ".join(f"{a.name}: {'|'.join(a.values)}" for a in cls.axes)
                presets = f"; presets: {', '.join(cls.presets)}" if cls.presets else ""
                raise InputError(f"{cls.family}: unknown variant token {t!r}; choose per axis ({known}){presets}")
            choices[axis.name] = t
        return choices

    def resolve_params(self, params: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(params) - set(self.default_params))
        if unknown:
            raise InputError(f"{self.family}: unknown parameter(s) {unknown}; known: "
                             f"{', '.join(f'{k} (default {v})' for k, v in self.default_params.items())}")
        out = {**self.default_params, **{k: int(v) for k, v in params.items()}}
        self.check_params(out)
        return out

    def check_params(self, params: dict[str, int]) -> None:
        """Raise InputError for values the family cannot test; subclasses add rules (and derived defaults)."""
        for k, v in params.items():
            if v < 0:
                raise InputError(f"{self.family}: parameter {k} must be >= 0, got {v}")

    @classmethod
    def variant_names(cls) -> list[str]:
        return list(cls.presets)

    # ----- what subclasses provide -------------------------------------------------------------
    @abstractmethod
    def build_spec(self) -> Spec:
        """The Spec (contract, behaviour, timing) for self.choices and self.params."""

    @abstractmethod
    def reference_rtl(self) -> str:
        """Reference RTL that meets the Spec (passes on Icarus and Verilator)."""

    @abstractmethod
    def run_fast(self, ctx: SimContext) -> SimOutcome:
        """The vector-replay tier."""

    def verify_options(self, options: Any = None) -> Any:
        """The VerifyOptions verify() should use with this suite (the assertion family changes linters/stages)."""
        from ..engine.options import VerifyOptions

        return options if options is not None else VerifyOptions()

    def observation(self) -> dict[str, str]:
        """Outputs the spec leaves undefined at times: output -> Verilog condition (over the ports) under which
        it is checked. Used by the mutation equivalence check, which compares designs only where the spec does."""
        return {}

    # ----- Testbench -------------------------------------------------------------------------------
    @property
    def contract(self) -> Contract:
        return self.spec.contract

    def config(self, seed: int) -> dict[str, Any]:
        """What a cocotb child needs to rebuild this suite (passed as JSON in CM_SUITE)."""
        return {"family": self.family, "variant": self.variant, "params": self.params, "seed": seed,
                "parameterized": self.parameterized}

    def fingerprint(self) -> str:
        return self._hash(self.kind, json.dumps(self.config(self.seed or 0), sort_keys=True), self.tier,
                          code_hash())

    def describe(self) -> str:
        return f"{self.family} suite ({self.variant}, {self.params}; tier {self.tier})"

    def _seed(self, ctx: SimContext) -> int:
        return self.seed if self.seed is not None else ctx.options.seed

    def run(self, ctx: SimContext) -> SimOutcome:
        if self.tier == "full":
            return self.run_full(ctx)
        fast = self.run_fast(ctx)
        fast.detail.testbench_kind = f"suite/{self.family}:fast"
        if self.tier == "fast" or not fast.passed:
            return fast
        full = self.run_full(ctx)
        if not full.passed:
            return full
        full.detail.samples += fast.detail.samples
        full.detail.mismatched_samples += fast.detail.mismatched_samples
        full.detail.testbench_kind = f"suite/{self.family}:fast+full"
        return full

    def run_full(self, ctx: SimContext) -> SimOutcome:
        from ..testbench.cocotb_tb import CocotbTestbench

        cfg = self.config(self._seed(ctx))
        tb = CocotbTestbench(HERE / "cocotb" / self.cocotb_module, toplevel=ctx.top,
                             parameters=dict(self.contract.params),
                             extra_env={"CM_SUITE": json.dumps(cfg), "CM_PKG_ROOT": str(PKG_ROOT)})
        out = tb.run(ctx)
        out.detail.testbench_kind = f"suite/{self.family}:full"
        return out


from .spec import Spec  # noqa: E402  (kept at the bottom: spec has no suite imports)

# ---------------------------------------------------------------------------------------------------
# Cycle-exact families: a golden model stepped once per clock, replayed from vectors.

Vector = tuple[dict[str, int], dict[str, int | None]]


class CycleModel:
    """A golden model observed once per cycle: outputs() just before the rising edge, edge() at it.

    Subclasses implement reset(), comb(inp) and step(inp). Async reset acts as soon as it is asserted.
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.known = spec.clock is None  # state is X until the first reset takes effect
        self.outputs_names = [p.name for p in spec.contract.outputs]

    def in_reset(self, inp: dict[str, int]) -> bool:
        if not self.spec.reset:
            return False
        return inp.get(self.spec.reset, 1 if self.spec.reset_active_low else 0) == (
            0 if self.spec.reset_active_low else 1)

    def outputs(self, inp: dict[str, int]) -> dict[str, int | None]:
        if self.spec.reset_async and self.in_reset(inp):
            self.do_reset()
        if not self.known:
            return {o: None for o in self.outputs_names}
        return self.comb(inp)

    def edge(self, inp: dict[str, int]) -> None:
        if self.in_reset(inp):
            self.do_reset()
        elif self.known:
            self.step(inp)

    def do_reset(self) -> None:
        self.reset()
        self.known = True

    def reset(self) -> None:  # pragma: no cover - stateless models
        pass

    @abstractmethod
    def comb(self, inp: dict[str, int]) -> dict[str, int | None]: ...

    def step(self, inp: dict[str, int]) -> None:  # pragma: no cover - stateless models
        pass


def reset_levels(spec: Spec) -> tuple[int, int]:
    """(asserted, deasserted) values of the spec's reset input."""
    return (0, 1) if spec.reset_active_low else (1, 0)


def reset_schedule(spec: Spec, n: int, rng: random.Random, *, every: int = 160) -> list[bool]:
    """Reset for the first 2 cycles, then rare random pulses of 1-2 cycles (mid-run reset is a test too)."""
    sched = [i < 2 for i in range(n)]
    i = every // 2 + rng.randrange(every // 2)
    while i < n - 4:
        for k in range(rng.choice((1, 1, 2))):
            sched[i + k] = True
        i += every // 2 + rng.randrange(every)
    return sched


@dataclass
class _Port:
    name: str
    width: int

    @property
    def range(self) -> str:
        return f"[{self.width - 1}:0] " if self.width > 1 else ""


class CycleSuite(Suite):
    """A family whose behaviour is exact per clock cycle: vectors are (inputs, expected outputs)."""

    fast_cycles: ClassVar[int] = 400
    full_cycles: ClassVar[int] = 3000

    @abstractmethod
    def new_model(self) -> CycleModel: ...

    @abstractmethod
    def stimulus(self, rng: random.Random, n: int) -> list[dict[str, int]]:
        """Input values for n cycles (without the clock): directed corners first, then seeded random."""

    def properties(self, inp: dict[str, int], out: dict[str, int]) -> list[str]:
        """Protocol properties checked by the cocotb tier on the design's outputs (besides the model)."""
        return []

    def vectors(self, seed: int, n: int | None = None) -> list[Vector]:
        return list(self._vectors(seed, n or self.fast_cycles))

    @lru_cache(maxsize=8)  # noqa: B019 - suites are few and long-lived
    def _vectors(self, seed: int, n: int) -> tuple[Vector, ...]:
        rng = random.Random(f"{self.family}/{self.variant}/{sorted(self.params.items())}/{seed}")
        stim = self.stimulus(rng, n)
        model = self.new_model()
        out: list[Vector] = []
        for inp in stim:
            exp = model.outputs(inp)
            out.append((dict(inp), dict(exp)))
            model.edge(inp)
        return tuple(out)

    # ----- the fast tier ---------------------------------------------------------------------------
    def _ports(self) -> tuple[list[_Port], list[_Port]]:
        c = self.contract
        ins = [_Port(p.name, p.width) for p in c.inputs if p.name != self.spec.clock]
        outs = [_Port(p.name, p.width) for p in c.outputs]
        return ins, outs

    def hex_vectors(self, vecs: Sequence[Vector]) -> str:
        ins, outs = self._ports()
        total = sum(p.width for p in ins) + 2 * sum(p.width for p in outs)
        digits = (total + 3) // 4
        lines = []
        for inp, exp in vecs:
            word = 0
            for p in ins:
                word = (word << p.width) | (inp.get(p.name, 0) & mask(p.width))
            for p in outs:
                v = exp.get(p.name)
                word = (word << p.width) | ((v or 0) & mask(p.width))
                word = (word << p.width) | (0 if v is None else mask(p.width))
            lines.append(f"{word:0{digits}x}")
        return "\n".join(lines) + "\n"

    def render_bench(self, top: str, n: int) -> str:
        ins, outs = self._ports()
        total = sum(p.width for p in ins) + 2 * sum(p.width for p in outs)
        fields = [p.name for p in ins]
        for p in outs:
            fields += [f"cm_exp_{p.name}", f"cm_msk_{p.name}"]
        shown = [p for p in ins]
        in_fmt = "{" + ",".join(f"{p.name}=%0h" for p in shown) + "}"
        return jinja_env().get_template("replay_tb.sv.j2").render(
            top=top, n=n, width=total, clock=self.spec.clock, inputs=ins, outputs=outs,
            fields=", ".join(fields), params=self.contract.params, in_fmt=in_fmt,
            in_args="".join(f", {p.name}" for p in shown), nonce="@@NONCE@@", max_shown=8)

    def run_fast(self, ctx: SimContext) -> SimOutcome:
        vecs = self.vectors(self._seed(ctx), self.fast_cycles)
        (ctx.workdir / "cm_vectors.hex").write_text(self.hex_vectors(vecs))
        bench = _cached_bench(self, ctx.top, len(vecs)).replace("@@NONCE@@", ctx.nonce)
        bench = bench.replace("cm_shown < 8", f"cm_shown < {ctx.options.max_mismatches}")
        (ctx.workdir / "cm_replay_tb.sv").write_text(bench)
        out = run_bench(ctx, [ctx.design_file, "cm_replay_tb.sv"], "cm_replay_tb", kind="suite:fast")
        return out


@lru_cache(maxsize=256)
def _cached_bench(suite: CycleSuite, top: str, n: int) -> str:
    return suite.render_bench(top, n)


def port(name: str, direction: str, width: int = 1) -> PortSpec:
    return PortSpec(name, direction, width)


def reset_port(choices: dict[str, str]) -> tuple[str, bool, bool]:
    """(name, active_low, async) from the common 'reset' and 'polarity' axes."""
    low = choices.get("polarity") == "low"
    return ("rst_n" if low else "rst"), low, choices.get("reset") == "async"


def reset_sentence(name: str, low: bool, is_async: bool, what: str) -> str:
    level = "low (0)" if low else "high (1)"
    if is_async:
        return (f"`{name}` is an asynchronous reset, active {level}: while it is asserted {what}, immediately, "
                "without waiting for a clock edge (include it in the sensitivity list).")
    return (f"`{name}` is a synchronous reset, active {level}: on a rising clock edge where it is asserted, "
            f"{what}; it has no effect between clock edges.")


__all__ = ["Axis", "CycleModel", "CycleSuite", "Spec", "Suite", "TIERS", "Vector", "field"]
