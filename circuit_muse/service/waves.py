"""A failing run's waveform, cut from its VCD around the first mismatch, as WaveDrom WaveJSON.

The page draws it with WaveDrom. The window shows the bench's own signals (inputs, and the reference's
and the design's outputs when the bench keeps both), sampled once per clock cycle, plus an `expected`
lane for the mismatching signal built from the simulate stage's mismatch table, so expected vs got
sit next to each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vcd.reader import TokenKind, tokenize

MAX_VCD_BYTES = 32 * 1024 * 1024
_CLOCKS = ("clk", "clock", "i_clk", "aclk", "clk_i", "wclk")
_SKIP_TYPES = {"integer", "real", "realtime", "time", "parameter", "event"}


@dataclass
class _Var:
    name: str
    size: int
    scope: str
    changes: list[tuple[int, str]] = field(default_factory=list)


def _fmt(value: Any, size: int) -> str:
    if isinstance(value, int):
        return str(value) if size == 1 else format(value, "x")  # hex, as the engine's mismatch table prints
    return str(value).lower()


def _read(path: Path) -> tuple[dict[str, _Var], list[str]]:
    """All variables by id code (first scope that declares each), and the order they were declared in."""
    by_id: dict[str, _Var] = {}
    order: list[str] = []
    scopes: list[str] = []
    now = 0
    with path.open("rb") as f:
        for tok in tokenize(f):
            kind = tok.kind
            if kind is TokenKind.SCOPE:
                scopes.append(tok.data.ident)
            elif kind is TokenKind.UPSCOPE:
                scopes.pop()
            elif kind is TokenKind.VAR:
                d = tok.data
                if d.id_code not in by_id and d.type_.value not in _SKIP_TYPES:
                    by_id[d.id_code] = _Var(d.reference, d.size, ".".join(scopes))
                    order.append(d.id_code)
            elif kind is TokenKind.CHANGE_TIME:
                now = int(tok.data)
            elif kind in (TokenKind.CHANGE_SCALAR, TokenKind.CHANGE_VECTOR):
                var = by_id.get(tok.data.id_code)
                if var is not None:
                    var.changes.append((now, _fmt(tok.data.value, var.size)))
    return by_id, order


def _value_at(var: _Var, t: int) -> str:
    """The value just before time t (what a clock edge at t samples)."""
    val = "x"
    for when, v in var.changes:
        if when >= t:
            break
        val = v
    return val


def _lane(name: str, values: list[str], size: int, marked: set[int]) -> dict[str, Any]:
    if size == 1:
        wave = "".join("." if i and v == values[i - 1] else (v if v in "01xz" else "x") for i, v in enumerate(values))
        return {"name": name, "wave": wave}
    wave, data = "", []
    for i, v in enumerate(values):
        if i and v == values[i - 1] and i not in marked and (i - 1) not in marked:
            wave += "."
        elif v in ("x", "z") or set(v) <= {"x"}:
            wave += "x"
        else:
            wave += "9" if i in marked else "="
            data.append(v)
    return {"name": name, "wave": wave, "data": data}


def waveform_window(vcd_path: str | Path, mismatches: list[dict[str, Any]], *, before: int = 5,
                    after: int = 4) -> dict[str, Any]:
    """WaveJSON for the cycles around the first mismatch (or the first cycles if none is listed)."""
    path = Path(vcd_path)
    if not path.is_file() or path.stat().st_size > MAX_VCD_BYTES:
        raise FileNotFoundError(f"waveform {path.name} is not available")
    by_id, order = _read(path)
    top_scope = min((v.scope for v in by_id.values()), key=lambda s: s.count("."), default="")
    clock = next((v for name in _CLOCKS for v in by_id.values() if v.name == name and v.size == 1), None)
    if clock is None:
        raise ValueError("no clock signal found in the waveform")
    edges = [t for i, (t, v) in enumerate(clock.changes) if v == "1" and (i == 0 or clock.changes[i - 1][1] != "1")]
    if not edges:
        raise ValueError("the clock never rises in the waveform")
    first = mismatches[0] if mismatches else {}
    t_first = int(first["time"]) if str(first.get("time", "")).isdigit() else None
    focus = sum(1 for e in edges if e <= t_first) - 1 if t_first is not None else (first.get("cycle") or 0)
    focus = max(0, min(focus, len(edges) - 1))
    lo, hi = max(0, focus - before), min(len(edges) - 1, focus + after)
    samples = [edges[k + 1] if k + 1 < len(edges) else edges[k] + 1 for k in range(lo, hi + 1)]

    def cycle_of(m: dict[str, Any]) -> int | None:
        if str(m.get("time", "")).isdigit():
            return sum(1 for e in edges if e <= int(m["time"])) - 1 - lo
        return None

    bad: dict[str, dict[int, str]] = {}
    for m in mismatches:
        k = cycle_of(m)
        if m.get("signal") and k is not None and 0 <= k <= hi - lo and m.get("expected") is not None:
            bad.setdefault(m["signal"], {})[k] = str(m["expected"]).lower()
    lanes: list[Any] = [{"name": clock.name, "wave": "p" + "." * (hi - lo)}]
    shown = [by_id[i] for i in order if by_id[i].scope == top_scope and by_id[i] is not clock]
    if not shown:
        shown = [by_id[i] for i in order if by_id[i] is not clock][:12]
    got_lanes: list[Any] = []
    for var in shown[:16]:
        values = [_value_at(var, t) for t in samples]
        marked = set(bad.get(var.name, {})) | set(bad.get(var.name.removeprefix("dut_"), {}))
        got_lanes.append(_lane(var.name, values, var.size, marked if var.name.startswith(("dut", *bad)) else set()))
    lanes += got_lanes
    for sig, cells in bad.items():
        var = next((v for v in shown if v.name in (sig, f"dut_{sig}")), None) or next(
            (v for v in by_id.values() if v.name == sig), None)
        if var is None:
            continue
        got = [_value_at(var, t) for t in samples]
        ref = next((v for v in shown if v.name == f"ref_{sig}"), None)  # a reference bench dumps the reference too
        expected = ([_value_at(ref, t) for t in samples] if ref is not None
                    else [cells.get(i, got[i]) for i in range(len(got))])
        lanes.append(["vs", {**_lane(f"{sig} got", got, max(var.size, 2), set(cells))},
                      {**_lane(f"{sig} expected", expected, max(var.size, 2), set(cells))}])
    return {"signal": lanes, "head": {"text": f"cycles {lo}..{hi} (first mismatch at cycle {focus})", "tick": lo},
            "config": {"hscale": 1}, "focus_cycle": focus, "first_cycle": lo}
