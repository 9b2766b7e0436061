"""Family registry: names -> Suite classes; get_suite() builds one, list_suites() describes them all."""
from __future__ import annotations

import secrets
from typing import Any

from ..engine.elaborate import DESIGN_FILE
from ..engine.options import VerifyOptions
from ..errors import InputError
from ..testbench.base import SimContext, SimOutcome
from ..tools import sandbox
from .base import Suite


def _families() -> dict[str, type[Suite]]:
    from .arbiter import ArbiterSuite
    from .assertion import AssertionSuite
    from .async_fifo import AsyncFifoSuite
    from .axi_lite import AxiLiteSuite
    from .counter import CounterSuite
    from .fifo import FifoSuite
    from .register import RegisterSuite

    classes: list[type[Suite]] = [RegisterSuite, CounterSuite, FifoSuite, AsyncFifoSuite, ArbiterSuite,
                                  AxiLiteSuite, AssertionSuite]
    return {c.family: c for c in classes}


FAMILY_ALIASES = {"sync_fifo": "fifo", "afifo": "async_fifo", "dff": "register", "axi": "axi_lite",
                  "axil": "axi_lite", "sva": "assertion", "assert": "assertion", "reg": "register"}


def family_names() -> list[str]:
    return list(_families())


def suite_class(family: str) -> type[Suite]:
    fams = _families()
    name = FAMILY_ALIASES.get(family.lower(), family.lower())
    if name not in fams:
        raise InputError(f"unknown suite family {family!r}; choose from {', '.join(fams)}")
    return fams[name]


def get_suite(family: str, variant: str | None = None, params: dict[str, int] | None = None, *,
              tier: str = "both", seed: int | None = None, parameterized: bool | None = None) -> Suite:
    """Build the suite for a family, a variant (axis tokens or a preset, e.g. "updown-load-async") and params.

    tier: "fast" (vector replay under Icarus), "full" (cocotb), "both" (fast, then cocotb if it passed).
    parameterized: whether the contract requires the HDL parameters (default depends on the family).
    """
    return suite_class(family)(variant, params, tier=tier, seed=seed, parameterized=parameterized)


def suite_from_config(cfg: dict[str, Any], **kw: Any) -> Suite:
    """Rebuild a suite from Suite.config() (used inside cocotb children)."""
    return get_suite(cfg["family"], cfg["variant"], cfg["params"], seed=cfg.get("seed"),
                     parameterized=cfg.get("parameterized"), **kw)


def list_suites() -> list[dict[str, Any]]:
    """Every family: its axes, presets (with their contracts) and parameters."""
    out = []
    for name, cls in _families().items():
        variants = []
        for preset in cls.presets or {"default": "default"}:
            s = cls(preset)
            variants.append({"name": preset, "variant": s.variant, "params": s.params,
                             "contract": s.contract.to_dict(), "title": s.spec.title})
        out.append({
            "family": name, "summary": cls.summary,
            "axes": [{"name": a.name, "values": list(a.values), "default": a.values[0], "help": a.help}
                     for a in cls.axes],
            "params": {k: {"default": v, "help": cls.param_help.get(k, "")} for k, v in cls.default_params.items()},
            "parameterized_by_default": cls.parameterized_default,
            "variants": variants,
        })
    return out


def run_suite(suite: Suite, source: str, *, options: VerifyOptions | None = None, top: str | None = None,
              tier: str | None = None) -> SimOutcome:
    """Run only the simulate stage of a suite on a design source (no lint/synth); for mutation and benchmarks."""
    opts = options or VerifyOptions()
    old = suite.tier
    if tier:
        suite.tier = tier
    try:
        with sandbox.workdir(prefix="cm-suite-") as work:
            (work / DESIGN_FILE).write_text(source)
            ctx = SimContext(workdir=work, design_file=DESIGN_FILE, top=top or suite.contract.module,
                             module=None, options=opts, nonce="CMS" + secrets.token_hex(12))
            return suite.run(ctx)
    finally:
        suite.tier = old
