"""Spec: what one suite checks, said twice: as an interface contract and as plain English for the prompt."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..contract import Contract


@dataclass(frozen=True)
class Spec:
    """One family/variant/parameter choice: the contract, the behaviour and the timing conventions.

    `params` are the behavioural values the golden model uses (WIDTH, DEPTH, N, ...). Only the names in
    `contract.params` must exist as HDL parameters in the design; the others may be hard-coded.
    """

    family: str
    variant: str
    params: dict[str, int]
    contract: Contract
    title: str
    behaviour: tuple[str, ...] = ()
    timing: tuple[str, ...] = ()
    clock: str | None = None
    reset: str | None = None
    reset_active_low: bool = False
    reset_async: bool = False
    language: str = "Verilog-2001 or SystemVerilog"
    choices: dict[str, str] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return self.contract.module

    @property
    def parameterized(self) -> bool:
        return bool(self.contract.params)

    def port_lines(self) -> list[str]:
        out = []
        for p in self.contract.ports:
            width = f"{p.width}-bit" if p.width > 1 else "1-bit"
            out.append(f"- `{p.name}`: {p.direction}, {width}")
        return out

    def prompt_text(self) -> str:
        """The plain-English specification that goes into the model's prompt."""
        what = "checker" if self.family == "assertion" else "synthesizable"
        lines = [f"Write a {what} {self.language} module named `{self.module}`: {self.title}."]
        if self.contract.params:
            plist = ", ".join(f"`{k}` (default {v})" for k, v in self.contract.params.items())
            lines.append(f"It must declare the parameters {plist}; it is tested with exactly these values.")
        lines.append("")
        lines.append("Ports (use exactly these names, directions and widths; no other ports):")
        lines += self.port_lines()
        if self.behaviour:
            lines.append("")
            lines.append("Behaviour:")
            lines += [f"- {b}" for b in self.behaviour]
        if self.timing:
            lines.append("")
            lines.append("Timing conventions (checked cycle by cycle):")
            lines += [f"- {t}" for t in self.timing]
        lines.append("")
        lines.append("Module header to use:")
        lines.append("```verilog")
        lines.append(self.contract.header())
        lines.append("```")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family, "variant": self.variant, "params": dict(self.params),
            "contract": self.contract.to_dict(), "title": self.title, "behaviour": list(self.behaviour),
            "timing": list(self.timing), "clock": self.clock, "reset": self.reset,
            "reset_active_low": self.reset_active_low, "reset_async": self.reset_async,
            "choices": dict(self.choices),
        }
