"""Clock-domain-crossing check: a multi-bit value that crosses into another clock domain through
synchronizer flops must change at most one bit per source clock edge (Gray code).

Zero-delay simulation cannot tell a Gray pointer from a binary one: both arrive intact. On silicon the first
synchronizer flop samples a bus while it changes, and a binary pointer going 0111 -> 1000 can be captured
as any mix of old and new bits. So the check is structural plus dynamic:

1. Yosys (after `proc; flatten`) gives the netlist as JSON. Every flop clocked by the destination clock whose
   D input comes straight (through wires, enable and reset muxes only) from flops of the source clock is a
   crossing; the source bits feeding one destination register form one crossing bus.
2. The trusted bench dumps a VCD of the whole design (`$dumpvars(0, dut)`: no design name is pasted into the
   bench). The names of the crossing buses are data: they are only looked up in the VCD.
3. Outside reset, any VCD time step at which two or more bits of one crossing bus change at once fails.

Every failure says which register crossed and how many bits changed, so the feedback is exact.
"""
from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from vcd.reader import TokenKind, tokenize

from ..report import Category, Diagnostic, Severity
from ..tools.invoke import run_tool
from ..tools.sandbox import Limits

_FLOPS = {"$dff", "$adff", "$sdff", "$dffe", "$adffe", "$sdffe", "$sdffce", "$dffsr", "$dffsre", "$aldff",
          "$aldffe"}
_PASS_THROUGH = {"$mux", "$pmux"}  # enable / synchronous-reset muxes in front of a flop's D input
NETLIST = "cm_cdc.json"
VCD = "cm_cdc.vcd"


@dataclass
class CrossingBus:
    """Source-domain bits that one destination-domain register samples; `names[i]` are the (net, index)
    spellings of bit i, most readable first."""

    source_clock: str
    dest_clock: str
    dest: str
    names: list[list[tuple[str, int]]] = field(default_factory=list)

    def label(self) -> str:
        nets = sorted({n[0][0] for n in self.names if n})
        return f"{'/'.join(nets) or '?'} ({self.source_clock} -> {self.dest_clock}, into {self.dest})"


def netlist(workdir: Path, files: list[str], top: str, limits: Limits) -> dict | None:
    """Yosys's JSON netlist after proc + flatten, or None when Yosys fails (the synth stage reports why)."""
    from ..engine.synth import yosys_inputs

    reads = "; ".join(f"read_verilog -sv {f}" for f in yosys_inputs(workdir, files))
    res = run_tool("yosys", ["-q", "-p", f"{reads}; hierarchy -top {top}; proc; flatten; opt_clean; "
                                         f"write_json {NETLIST}"], cwd=workdir, limits=limits)
    path = workdir / NETLIST
    if res.returncode != 0 or not path.exists():
        return None
    return json.loads(path.read_text(errors="replace"))


def _bit_names(module: dict) -> dict[int, list[tuple[str, int]]]:
    out: dict[int, list[tuple[str, int]]] = {}
    nets = sorted(module.get("netnames", {}).items(), key=lambda kv: (kv[1].get("hide_name", 0), kv[0].count(".")))
    for name, net in nets:
        if net.get("hide_name"):
            continue
        bits, offset, upto = net["bits"], net.get("offset", 0), net.get("upto", 0)
        for i, b in enumerate(bits):
            if isinstance(b, int):
                out.setdefault(b, []).append((name, offset + (len(bits) - 1 - i if upto else i)))
    return out


def crossings(design: dict, top: str, clocks: Iterable[str]) -> list[CrossingBus]:
    """Registers of one clock that sample two or more bits coming straight from registers of another clock."""
    module = design.get("modules", {}).get(top)
    if module is None:
        return []
    ports = module.get("ports", {})
    clock_bits = {ports[c]["bits"][0]: c for c in clocks if c in ports}
    drivers: dict[int, tuple[dict, str, int]] = {}
    flops: list[tuple[str, dict]] = []
    for name, cell in module.get("cells", {}).items():
        dirs = cell.get("port_directions", {})
        for port, bits in cell.get("connections", {}).items():
            if dirs.get(port) == "output":
                for i, b in enumerate(bits):
                    if isinstance(b, int):
                        drivers[b] = (cell, port, i)
        if cell["type"] in _FLOPS:
            flops.append((name, cell))
    q_domain: dict[int, str] = {}
    for _, cell in flops:
        clk = clock_bits.get(cell["connections"].get("CLK", [None])[0])
        if clk:
            for b in cell["connections"]["Q"]:
                if isinstance(b, int):
                    q_domain[b] = clk
    names = _bit_names(module)

    def source(bit: object, own_q: set[int], depth: int = 0) -> int | None:
        if not isinstance(bit, int) or depth > 16:
            return None
        if bit in q_domain:
            return bit
        drv = drivers.get(bit)
        if drv is None or drv[0]["type"] not in _PASS_THROUGH or drv[1] != "Y":
            return None
        cell, _, i = drv
        conn, width = cell["connections"], len(cell["connections"]["Y"])
        data = [conn["A"][i]] + [conn["B"][k * width + i] for k in range(len(conn["B"]) // width)]
        live = [d for d in data if isinstance(d, int) and d not in own_q]
        return source(live[0], own_q, depth + 1) if len(live) == 1 else None

    out: list[CrossingBus] = []
    for name, cell in flops:
        dest_clk = clock_bits.get(cell["connections"].get("CLK", [None])[0])
        if not dest_clk:
            continue
        own_q = {b for b in cell["connections"]["Q"] if isinstance(b, int)}
        srcs = [source(b, own_q) for b in cell["connections"]["D"]]
        by_clock: dict[str, list[int]] = {}
        for s in srcs:
            if s is not None and q_domain[s] != dest_clk:
                by_clock.setdefault(q_domain[s], []).append(s)
        q_names = names.get(cell["connections"]["Q"][0], [(name, 0)])
        for clk, bits in by_clock.items():
            if len(set(bits)) >= 2:
                out.append(CrossingBus(clk, dest_clk, q_names[0][0], [names.get(b, []) for b in dict.fromkeys(bits)]))
    return out


Variables = dict[tuple[str, int], tuple[str, int, int]]


def _read_vcd(path: Path, scope: str, wanted: Callable[[Variables], set[str]] | None = None
              ) -> tuple[Variables, list[tuple[int, str, str]]]:
    """Variables under `scope` as (net, index) -> (id, msb, lsb), and the changes as (time, id, value).

    pyvcd reads the declarations; the value changes (one per line) are split here, keeping only the ids
    `wanted(variables)` names, which is much faster than tokenizing every change.
    """
    data = path.read_bytes()
    end = data.find(b"$enddefinitions")
    if end < 0:
        return {}, []
    body = data.index(b"$end", end + len(b"$enddefinitions")) + len(b"$end")
    variables: dict[tuple[str, int], tuple[str, int, int]] = {}
    stack: list[str] = []
    for tok in tokenize(io.BytesIO(data[:body])):
        kind = tok.kind
        if kind is TokenKind.SCOPE:
            stack.append(tok.data.ident)
        elif kind is TokenKind.UPSCOPE:
            stack.pop()
        elif kind is TokenKind.VAR:
            path_ = ".".join(stack)
            if path_ != scope and not path_.startswith(scope + "."):
                continue
            inner = path_[len(scope) + 1:]
            net = f"{inner}.{tok.data.reference}" if inner else tok.data.reference
            bi = tok.data.bit_index
            msb, lsb = (bi if isinstance(bi, tuple) else (bi, bi)) if bi is not None else (tok.data.size - 1, 0)
            step = -1 if msb >= lsb else 1
            for idx in range(msb, lsb + step, step):
                variables[(net, idx)] = (tok.data.id_code, msb, lsb)
    keep = wanted(variables) if wanted else None
    changes: list[tuple[int, str, str]] = []
    now = 0
    lines = data[body:].decode("ascii", "replace").splitlines()
    for line in lines:
        if not line or line[0] == "$":
            continue
        head = line[0]
        if head == "#":
            now = int(line[1:])
        elif head in "01xzXZ":
            vid = line[1:].strip()
            if keep is None or vid in keep:
                changes.append((now, vid, head.lower()))
        elif head in "bB":
            value, _, vid = line[1:].partition(" ")
            vid = vid.strip()
            if keep is None or vid in keep:
                changes.append((now, vid, value.lower()))
    return variables, changes


def _bit(value: str, msb: int, lsb: int, idx: int) -> str:
    width = abs(msb - lsb) + 1
    value = value.rjust(width, "x" if value[:1] in "xz" else "0")[-width:]
    return value[abs(msb - idx)]


def check_vcd(path: Path, scope: str, buses: list[CrossingBus], resets: dict[str, str],
              reset_active_low: bool = True) -> list[Diagnostic]:
    """Fail every crossing bus that changed two or more bits in one time step outside reset.

    `resets` maps a clock to its domain's reset port; a step in which that reset is asserted (or changes)
    is skipped, and so is a step from an unknown (x) value.
    """
    if not path.exists():
        return [Diagnostic(severity=Severity.ERROR, tool="cdc", category=Category.TESTBENCH,
                           message="the clock-domain-crossing check found no waveform: the bench did not run")]
    diags: list[Diagnostic] = []
    watched: list[tuple[CrossingBus, list[tuple[str, int, int, int]]]] = []

    def select(variables: Variables) -> set[str]:
        for bus in buses:
            bits = []
            for spellings in bus.names:
                hit = next(((variables[s], s[1]) for s in spellings if s in variables), None)
                if hit is None:
                    diags.append(Diagnostic(severity=Severity.ERROR, tool="cdc", category=Category.TESTBENCH,
                                            message=f"cannot observe the clock-domain crossing {bus.label()} in "
                                                    "the waveform, so its Gray coding cannot be checked"))
                    break
                (vid, msb, lsb), idx = hit
                bits.append((vid, msb, lsb, idx))
            else:
                watched.append((bus, bits))
        resets_ = {variables[(r, 0)][0] for r in resets.values() if (r, 0) in variables}
        return {vid for _, bits in watched for vid, *_ in bits} | resets_

    variables, changes = _read_vcd(path, scope, select)
    current: dict[str, str] = {}
    if diags:
        return diags
    reset_ids = {clk: variables.get((rst, 0), ("", 0, 0))[0] for clk, rst in resets.items()}
    asserted = "0" if reset_active_low else "1"
    failed: set[int] = set()

    def snapshot() -> list[list[str]]:
        return [[_bit(current.get(vid, "x"), msb, lsb, idx) for vid, msb, lsb, idx in bits] for _, bits in watched]

    i, before = 0, snapshot()
    while i < len(changes):
        t = changes[i][0]
        touched: set[str] = set()
        while i < len(changes) and changes[i][0] == t:
            current[changes[i][1]] = changes[i][2]
            touched.add(changes[i][1])
            i += 1
        after = snapshot()
        for k, (bus, _) in enumerate(watched):
            rid = reset_ids.get(bus.source_clock, "")
            in_reset = bool(rid) and (rid in touched or current.get(rid, asserted) == asserted)
            old, new = before[k], after[k]
            if k in failed or in_reset or "x" in old or "z" in old or old == new:
                continue
            flips = sum(a != b for a, b in zip(old, new, strict=True))
            if flips > 1:
                failed.add(k)
                diags.append(Diagnostic(
                    severity=Severity.ERROR, tool="cdc", category=Category.MISMATCH, code="cdc-gray",
                    message=f"{flips} bits of {bus.label()} changed in one {bus.source_clock} cycle (at "
                            f"{t} in the bench's time units, from {''.join(reversed(old))} to "
                            f"{''.join(reversed(new))}): a value crossing clock domains through synchronizers "
                            "must change at most one bit at a time; pass the pointer as Gray code"))
        before = after
    return diags
