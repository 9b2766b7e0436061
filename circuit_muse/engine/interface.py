"""Compare an elaborated design with an interface contract and say exactly what differs."""
from __future__ import annotations

from ..contract import Contract
from ..report import Category, Diagnostic, Severity
from .elaborate import DESIGN_FILE, Elaboration


def _diag(msg: str, line: int | None, code: str) -> Diagnostic:
    return Diagnostic(severity=Severity.ERROR, message=msg, tool="contract", code=code, file=DESIGN_FILE,
                      line=line, category=Category.INTERFACE)


def check_contract(elab: Elaboration, contract: Contract) -> list[Diagnostic]:
    mod = elab.modules.get(contract.module)
    if mod is None:
        found = ", ".join(sorted(elab.modules)) or "none"
        return [_diag(f"module {contract.module!r} not found (top-level modules: {found}); "
                      f"name the module {contract.module}", None, "module-name")]
    out: list[Diagnostic] = []
    for name in contract.params:
        if name not in mod.params:
            out.append(_diag(f"parameter {name} is missing; declare `parameter {name} = "
                             f"{contract.params[name]}`", mod.line, "param-missing"))
    for spec in contract.ports:
        port = mod.port(spec.name)
        if port is None:
            near = [p.name for p in mod.ports if p.name.lower() == spec.name.lower()]
            hint = f" (found {near[0]!r}: names are case-sensitive)" if near else ""
            out.append(_diag(f"port {spec.name!r} ({spec.direction}, {spec.width} bit) is missing{hint}",
                             mod.line, "port-missing"))
            continue
        if port.direction != spec.direction:
            out.append(_diag(f"port {spec.name!r} is {port.direction}, expected {spec.direction}",
                             port.line, "port-direction"))
        if port.width != spec.width:
            out.append(_diag(f"port {spec.name!r} is {port.width} bits wide, expected {spec.width}",
                             port.line, "port-width"))
    expected = {p.name for p in contract.ports}
    for port in mod.ports:
        if port.name not in expected:
            out.append(_diag(f"port {port.name!r} is not in the interface; remove it (expected ports: "
                             f"{', '.join(p.name for p in contract.ports)})", port.line, "port-extra"))
    lines = elab.source.splitlines()
    for d in out:
        if d.line and 0 < d.line <= len(lines):
            d.source_line = lines[d.line - 1].rstrip()
    return out
