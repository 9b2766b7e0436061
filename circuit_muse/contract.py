"""Interface contracts: the module name, ports (direction, width) and parameters a design must have."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import InputError

DIRECTIONS = ("input", "output", "inout")


@dataclass(frozen=True)
class PortSpec:
    name: str
    direction: str
    width: int = 1

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise InputError(f"port {self.name!r}: direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if self.width < 1:
            raise InputError(f"port {self.name!r}: width must be >= 1, got {self.width}")

    def declaration(self) -> str:
        rng = f" [{self.width - 1}:0]" if self.width > 1 else ""
        return f"{self.direction}{rng} {self.name}"


@dataclass(frozen=True)
class Contract:
    """What the design under test must look like from the outside.

    Widths are the widths with `params` applied; a design may declare the parameters with other
    defaults, it is elaborated with these values before ports are compared.
    """

    module: str
    ports: tuple[PortSpec, ...]
    params: dict[str, int] = field(default_factory=dict)

    def port(self, name: str) -> PortSpec | None:
        return next((p for p in self.ports if p.name == name), None)

    @property
    def inputs(self) -> list[PortSpec]:
        return [p for p in self.ports if p.direction == "input"]

    @property
    def outputs(self) -> list[PortSpec]:
        return [p for p in self.ports if p.direction == "output"]

    def to_dict(self) -> dict[str, Any]:
        return {"module": self.module, "ports": [asdict(p) for p in self.ports], "params": dict(self.params)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Contract:
        try:
            ports = tuple(PortSpec(**p) for p in d["ports"])
            return cls(module=d["module"], ports=ports, params=dict(d.get("params", {})))
        except (KeyError, TypeError) as exc:
            raise InputError(f"bad contract {d!r}: needs 'module' and 'ports' "
                             f"[{{name, direction, width}}], optional 'params' ({exc})") from exc

    def header(self) -> str:
        """A Verilog-2001 module header that satisfies this contract (used in prompts and templates)."""
        params = ""
        if self.params:
            params = " #(\n" + ",\n".join(f"    parameter {k} = {v}" for k, v in self.params.items()) + "\n)"
        ports = ",\n".join(f"    {p.declaration()}" for p in self.ports)
        return f"module {self.module}{params} (\n{ports}\n);"
