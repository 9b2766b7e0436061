"""Mutation testing of the suites: automatic mutants of reference RTL, equivalence filtering, scoring.

Operators (text level, on the module body; the references are written one port per line so the header can
be edited safely):
- op_swap: + <-> -, && <-> ||, & <-> |, ^ -> &, == <-> !=, < <-> <=, > <-> >= (comparisons inside parentheses)
- const: off-by-one on integer literals (n -> n+1, n -> n-1) and 1'b0 <-> 1'b1
- invert: if (c) -> if (!(c)); (c) ? a : b -> !(c) ? a : b
- drop_reset: the reset branch condition becomes 1'b0; an async reset edge leaves the sensitivity list
- blocking: <= -> = (and = -> <= inside always blocks)
- stuck: each output bit 0 and MSB stuck at 0 and at 1
- sva (assertions only): |=> <-> |->, $stable -> $changed, $onehot0 -> $onehot, drop disable iff, !x -> x

Equivalence (the honest way to leave a mutant out of the score): a mutant that survives the suite is handed to
Yosys: `equiv_make gold gate; equiv_simple -seq N; equiv_induct -seq N; equiv_status -assert` and, if that does
not prove it, a miter (`miter -equiv -flatten -ignore_gold_x`) with `sat -tempinduct -prove-asserts
-set-init-zero` (async resets via async2sync, several clocks via clk2fflogic). Only a proof marks a mutant
"equivalent"; everything else that survives counts against the score as "survived". SVA mutants cannot be
read by Yosys 0.23, so their survivors always count as survived.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..tools import sandbox
from ..tools.invoke import run_tool

RESET_NAMES = ("rst", "rst_n", "aresetn", "wrst_n", "rrst_n", "reset", "reset_n")


@dataclass
class Mutant:
    id: int
    operator: str
    line: int
    description: str
    source: str
    status: str = "pending"      # killed | survived | equivalent | invalid
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "operator": self.operator, "line": self.line, "description": self.description,
                "status": self.status, **self.detail}


def _depths(line: str) -> list[int]:
    d, out = 0, []
    for ch in line:
        if ch in "([{":
            d += 1
        out.append(d)
        if ch in ")]}":
            d -= 1
    return out


def _brackets(line: str) -> list[int]:
    d, out = 0, []
    for ch in line:
        if ch == "[":
            d += 1
        out.append(d)
        if ch == "]":
            d -= 1
    return out


def _code(line: str) -> str:
    return line.split("//", 1)[0]


def _balanced(text: str, start: int) -> int:
    """Index just past the parenthesis group that opens at text[start] == '('."""
    d = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            d += 1
        elif text[i] == ")":
            d -= 1
            if d == 0:
                return i + 1
    return -1


_SWAPS = [(r"&&", "||"), (r"\|\|", "&&"), (r"(?<![&|<>=!~^])&(?![&=])", "|"), (r"(?<![&|<>=!~^])\|(?![|=])", "&"),
          (r"\^", "&"), (r"==", "!="), (r"!=", "=="), (r"(?<![<>=!])>=", ">"), (r"(?<![<>=!-])>(?![>=])", ">="),
          (r"(?<![<>=!])<(?![<=])", "<="), (r"(?<=[\s\w)\]])\+(?=[\s\w(])", "-"), (r"(?<=[\s\w)\]])-(?=[\s\w(])", "+")]
_NUMBER = re.compile(r"(?<![\w'$])(\d+)'([bdh])([0-9a-fA-F_]+)|(?<![\w'.$])(\d+)(?![\w'.])")


def _body_range(lines: list[str]) -> tuple[int, int]:
    """Line indexes of the module body: after the header's ');' up to endmodule."""
    start = next((i + 1 for i, ln in enumerate(lines) if re.match(r"^\s*\);", ln)), 0)
    end = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip().startswith("endmodule")), len(lines))
    return start, end


def mutants(source: str, *, sva: bool = False) -> list[Mutant]:
    """All first-order mutants of a reference module (deduplicated; the original is never included)."""
    lines = source.splitlines()
    body0, body1 = _body_range(lines)
    out: list[tuple[str, int, str, str]] = []

    def emit(op: str, i: int, new_line: str, desc: str) -> None:
        if new_line != lines[i]:
            out.append((op, i + 1, desc, "\n".join(lines[:i] + [new_line] + lines[i + 1:]) + "\n"))

    in_always = False
    for i in range(body0, body1):
        line = lines[i]
        code = _code(line)
        stripped = code.strip()
        if re.match(r"^\s*always\b", code):
            in_always = True
        is_decl = bool(re.match(r"^\s*(reg|wire|integer|genvar|input|output)\b", code)) and "=" not in code
        if not stripped or stripped.startswith("//") or is_decl:
            continue
        depth = _depths(code)
        brk = _brackets(code)
        if sva:
            for pat, rep, desc in ((r"\|=>", "|->", "|=> -> |->"), (r"\|->", "|=>", "|-> -> |=>"),
                                   (r"\$stable", "$changed", "$stable -> $changed"),
                                   (r"\$onehot0", "$onehot", "$onehot0 -> $onehot"),
                                   (r"disable iff \([^)]*\)\s*", "", "drop disable iff"),
                                   (r"!\s*(\w+)", r"\1", "drop a negation"), (r"\(!rst_n\)", "(rst_n)", "invert reset")):
                for m in re.finditer(pat, code):
                    emit("sva", i, line[:m.start()] + m.expand(rep) + line[m.end():], desc)
            # variable substitution inside the property (one signal read in place of another)
            names = [n for n in re.findall(r"input\s+logic\s+(?:\[[^\]]*\]\s*)?(\w+)", source) if n != "clk"]
            prop = code.find("disable iff")
            for m in re.finditer(r"\b(" + "|".join(map(re.escape, names)) + r")\b", code):
                if prop >= 0 and m.start() < code.find(")", prop):
                    continue  # leave the disable condition to the reset operators
                for other in names:
                    if other != m.group(1) and other != "rst_n":
                        emit("sva", i, line[:m.start()] + other + line[m.end():], f"{m.group(1)} -> {other}")
        # operator swaps (comparisons only inside parentheses; never inside [] ranges)
        for pat, rep in _SWAPS:
            for m in re.finditer(pat, code):
                if brk[m.start()] > 0:
                    continue
                if rep in ("<=", ">", ">=") or m.group(0) in ("<", ">", ">="):
                    if depth[m.start()] == 0:
                        continue
                emit("op_swap", i, line[:m.start()] + rep + line[m.end():], f"{m.group(0)} -> {rep}")
        # off-by-one constants
        for m in _NUMBER.finditer(code):
            if brk[m.start()] > 0 or re.search(r"#\s*$", code[:m.start()]):
                continue
            if m.group(1):
                size, base, digits = int(m.group(1)), m.group(2), m.group(3).replace("_", "")
                val = int(digits, {"b": 2, "d": 10, "h": 16}[base])
                cands = {(val + 1) % (1 << size), (val - 1) % (1 << size)}
                for v in sorted(cands - {val}):
                    lit = f"{size}'d{v}" if base == "d" else (f"{size}'b{v:0{size}b}" if base == "b" else f"{size}'h{v:x}")
                    emit("const", i, line[:m.start()] + lit + line[m.end():], f"{m.group(0)} -> {lit}")
            else:
                val = int(m.group(4))
                if re.search(r"\{\s*$", code[:m.start()]) or re.search(r"^\s*\{", code[m.end():]):
                    continue  # replication counts
                for v in (val + 1, val - 1):
                    if v >= 0:
                        emit("const", i, line[:m.start()] + str(v) + line[m.end():], f"{val} -> {v}")
        # inverted conditions and dropped resets
        for m in re.finditer(r"\bif\s*\(", code):
            s = m.end() - 1
            e = _balanced(code, s)
            if e < 0:
                continue
            cond = code[s + 1:e - 1]
            emit("invert", i, line[:s] + f"(!({cond}))" + line[e:], f"if ({cond}) -> if (!({cond}))")
            if any(re.search(rf"\b{r}\b", cond) for r in RESET_NAMES):
                emit("drop_reset", i, line[:s] + "(1'b0)" + line[e:], f"reset branch if ({cond}) never taken")
        for m in re.finditer(r"\(([^()?]+)\)\s*\?", code):
            emit("invert", i, line[:m.start()] + f"!({m.group(1)}) ?" + line[m.end():], f"({m.group(1)}) ? -> !(...) ?")
        sens = re.search(r"\s+or\s+(posedge|negedge)\s+(\w+)", code)
        if sens and sens.group(2) in RESET_NAMES:
            emit("drop_reset", i, line[:sens.start()] + line[sens.end():], f"asynchronous {sens.group(2)} made synchronous")
        # blocking <-> non-blocking
        if in_always:
            for m in re.finditer(r"(?<![<>=!])<=(?!=)", code):
                if depth[m.start()] == 0:
                    emit("blocking", i, line[:m.start()] + "=" + line[m.end():], "<= -> =")
            for m in re.finditer(r"(?<![<>=!])=(?!=)", code):
                if depth[m.start()] == 0 and not re.match(r"^\s*(for|assign)\b", code):
                    emit("blocking", i, line[:m.start()] + "<=" + line[m.end():], "= -> <=")
    out += _stuck_mutants(lines, body0)
    out += _gray_to_binary_mutants(lines, body0, body1)
    seen = {source.strip()}
    result = []
    for op, ln, desc, text in out:
        if text.strip() in seen:
            continue
        seen.add(text.strip())
        result.append(Mutant(len(result), op, ln, desc, text))
    return result


_GRAY_ENCODE = re.compile(r"\(\s*(\w+)\s*>>\s*1\s*\)\s*\^\s*\1\b|\b(\w+)\s*\^\s*\(\s*\2\s*>>\s*1\s*\)")


def _gray_to_binary_mutants(lines: list[str], body0: int, body1: int) -> list[tuple[str, int, str, str]]:
    """Replace Gray with binary: drop a `(b >> 1) ^ b` encoding, or synchronize `xbin` where `xgray` was.

    A binary pointer through two-flop synchronizers simulates fine at zero delay; the async FIFO suite's
    clock-domain-crossing check must still kill these.
    """
    out = []
    text = "\n".join(lines)
    for i in range(body0, body1):
        code = _code(lines[i])
        for m in _GRAY_ENCODE.finditer(code):
            name = m.group(1) or m.group(2)
            new = lines[i][:m.start()] + name + lines[i][m.end():]
            out.append(("gray_to_binary", i + 1, f"Gray encoding of {name} -> {name} (binary)",
                        "\n".join(lines[:i] + [new] + lines[i + 1:]) + "\n"))
        nb = re.match(r"^(\s*\w+\s*<=\s*)(\w*)gray(\w*)(\s*;.*)$", lines[i])
        if nb:
            binary = f"{nb.group(2)}bin{nb.group(3)}"
            if re.search(rf"\b{re.escape(binary)}\b", text):
                new = f"{nb.group(1)}{binary}{nb.group(4)}"
                out.append(("gray_to_binary", i + 1, f"synchronize {binary} instead of "
                            f"{nb.group(2)}gray{nb.group(3)}", "\n".join(lines[:i] + [new] + lines[i + 1:]) + "\n"))
    return out


def _stuck_mutants(lines: list[str], body0: int) -> list[tuple[str, int, str, str]]:
    out = []
    for i in range(body0):
        m = re.match(r"^(\s*)output\s+(reg|wire|logic)?\s*(\[[^\]]+\])?\s*(\w+)(\s*,?)\s*$", _code(lines[i]))
        if not m:
            continue
        kind, rng, name = m.group(2) or "wire", m.group(3) or "", m.group(4)
        width_expr = None
        if rng:
            hi = rng.strip("[]").split(":")[0].strip()
            width_expr = f"({hi})"
        bits = ["0"] + ([width_expr] if width_expr else [])
        for b in bits:
            for val in (0, 1):
                body = "\n".join(lines[body0:])
                body = re.sub(rf"\b{name}\b", f"{name}_cmi", body)
                header = lines[:body0]
                header[i] = f"{m.group(1)}output wire {rng + ' ' if rng else ''}{name}{m.group(5)}"
                inner_kind = "reg" if kind == "reg" else "wire"
                sel = f"{name}_cmi"
                if rng:
                    expr = (f"{sel} | ({{{{({b_w(rng)}){{1'b0}}}}, 1'b1}} << {b})" if val else
                            f"{sel} & ~({{{{({b_w(rng)}){{1'b0}}}}, 1'b1}} << {b})")
                else:
                    expr = "1'b1" if val else "1'b0"
                decl = f"    {inner_kind} {rng + ' ' if rng else ''}{name}_cmi;\n    assign {name} = {expr};"
                text = "\n".join(header) + "\n" + decl + "\n" + body + "\n"
                which = "bit 0" if b == "0" else "top bit"
                out.append(("stuck", i + 1, f"{name} {which} stuck at {val}", text))
    return out


def b_w(rng: str) -> str:
    """For a range '[HI:0]', the expression HI (the zero-extension width of a 1-bit one)."""
    return rng.strip("[]").split(":")[0].strip()


# ---------------------------------------------------------------------------------------------------
# Equivalence checking with Yosys

def _rename(source: str, old: str, new: str) -> str:
    return re.sub(rf"^(\s*module\s+){re.escape(old)}\b", rf"\g<1>{new}", source, flags=re.M)


def _view(contract: Any, inner: str, name: str, observation: dict[str, str]) -> str:
    """A wrapper that shows the design's outputs only where the spec defines them (0 elsewhere)."""
    outs = {p.name for p in contract.outputs}
    decl = [f"    {p.direction} {'[' + str(p.width - 1) + ':0] ' if p.width > 1 else ''}{p.name}" for p in contract.ports]
    body = []
    for p in contract.outputs:
        body.append(f"    wire {'[' + str(p.width - 1) + ':0] ' if p.width > 1 else ''}{p.name}_r;")
    conns = ", ".join(f".{p.name}({p.name}_r)" if p.name in outs else f".{p.name}({p.name})" for p in contract.ports)
    body.append(f"    {inner} u ({conns});")
    for p in contract.outputs:
        cond = observation.get(p.name)
        if cond:
            cond = re.sub(r"\b(" + "|".join(map(re.escape, outs)) + r")\b", r"\1_r", cond)
            body.append(f"    assign {p.name} = ({cond}) ? {p.name}_r : {p.width}'d0;")
        else:
            body.append(f"    assign {p.name} = {p.name}_r;")
    return f"module {name} (\n" + ",\n".join(decl) + "\n);\n" + "\n".join(body) + "\nendmodule\n"


def equivalent(reference: str, mutant: str, contract: Any, *, observation: dict[str, str] | None = None,
               seq: int = 12, multi_clock: bool = False, timeout_s: float = 30.0) -> tuple[bool | None, str]:
    """(True, how) when Yosys proves the mutant equivalent to the reference, as seen through the spec's
    observation (outputs compared only where the spec defines them); (None, why) otherwise."""
    top = contract.module
    gold = _rename(reference, top, "cm_gold") + _view(contract, "cm_gold", "cm_view_gold", observation or {})
    gate = _rename(mutant, top, "cm_gate") + _view(contract, "cm_gate", "cm_view_gate", observation or {})
    prep = ("hierarchy; proc; flatten; opt_clean; memory -nomap; memory_map; opt_clean; async2sync;"
            + (" clk2fflogic;" if multi_clock else " dffunmap;"))
    if multi_clock:
        # Two clock domains: a structural proof. equiv_make pairs registers by name (the operators never touch a
        # clock net, so paired registers share clock and reset); equiv_induct then proves that every register's
        # next state and every output are equal whenever all paired registers and inputs are equal. That holds
        # for each register at its own clock edge, so the designs are equivalent under any clocking.
        prep = "hierarchy; proc; flatten; opt_clean; memory -nomap; memory_map; opt_clean; async2sync;"
        scripts = [("equiv_make+equiv_induct (register-matched, any clocking)",
                    f"read_verilog -sv gold.v; read_verilog -sv gate.v; {prep} "
                    "equiv_make cm_view_gold cm_view_gate cm_equiv; hierarchy -top cm_equiv; equiv_simple -seq 1; "
                    "equiv_induct; equiv_status -assert")]
    else:
        scripts = _single_clock_scripts(prep, seq)
    return _prove(gold, gate, scripts, timeout_s)


def _single_clock_scripts(prep: str, seq: int) -> list[tuple[str, str]]:
    return [
        ("equiv_induct", f"read_verilog -sv gold.v; read_verilog -sv gate.v; {prep} "
                         f"equiv_make cm_view_gold cm_view_gate cm_equiv; hierarchy -top cm_equiv; "
                         f"equiv_simple -seq {seq}; equiv_induct -seq {seq}; equiv_status -assert"),
        ("miter+sat -tempinduct", f"read_verilog -sv gold.v; read_verilog -sv gate.v; {prep} "
                                  "miter -equiv -flatten -make_assert -ignore_gold_x cm_view_gold cm_view_gate "
                                  f"cm_miter; hierarchy -top cm_miter; sat -verify -tempinduct -prove-asserts "
                                  f"-set-init-zero -seq 1 -maxsteps {seq * 3} cm_miter"),
    ]


def _prove(gold: str, gate: str, scripts: list[tuple[str, str]], timeout_s: float) -> tuple[bool | None, str]:
    limits = sandbox.Limits(wall_s=timeout_s, cpu_s=int(timeout_s) + 5, address_space=4096 * sandbox.MiB)
    notes = []
    with sandbox.workdir(prefix="cm-equiv-") as work:
        (work / "gold.v").write_text(gold)
        (work / "gate.v").write_text(gate)
        for name, script in scripts:
            res = run_tool("yosys", ["-q", "-p", script], cwd=work, limits=limits)
            if res.returncode == 0 and not res.killed_by_limit:
                return True, f"proved by {name}"
            tail = (res.output.strip().splitlines() or ["no output"])[-1][:160]
            notes.append(f"{name}: {res.killed_by_limit or tail}")
    return None, "; ".join(notes)


# ---------------------------------------------------------------------------------------------------
# Scoring

def score(suite: Any, *, tier: str = "both", check_equivalence: bool = True, options: Any = None,
          limit: int | None = None, on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run every mutant of the suite's reference through the suite; classify killed/survived/equivalent/invalid.

    on_progress(done, total) is called after each mutant (for progress bars).

    invalid: the mutant does not compile with the bench (not counted). score = killed / (killed + survived).
    """
    from ..engine.options import VerifyOptions
    from ..report import Category
    from ..tools.sandbox import Limits, MiB
    from .registry import run_suite

    if options is None:  # mutants that loop forever are killed by a short limit, not the 20 s default
        options = VerifyOptions(sim_limits=Limits(wall_s=6, cpu_s=6, address_space=4096 * MiB, file_size=64 * MiB))

    ref = suite.reference_rtl()
    sva = suite.family == "assertion"
    ms = mutants(ref, sva=sva)[:limit]
    base = run_suite(suite, ref, tier=tier, options=options)
    if not base.passed:
        raise RuntimeError(f"{suite.family}/{suite.variant}: the reference fails its own suite: "
                           f"{base.detail.mismatches[:2]} {base.detail.log_tail[-500:]}")
    for done, m in enumerate(ms, 1):
        if on_progress and done > 1:
            on_progress(done - 1, len(ms))
        out = run_suite(suite, m.source, tier=tier, options=options)
        if out.passed:
            m.status = "survived"
        elif out.category in (Category.SYNTAX, Category.INTERFACE, Category.TESTBENCH):
            m.status = "invalid"
        else:
            m.status = "killed"
            first = out.detail.mismatches[0] if out.detail.mismatches else None
            m.detail["killed_by"] = out.detail.testbench_kind
            if first is not None:
                m.detail["first"] = {"cycle": first.cycle, "signal": first.signal, "exp": first.expected,
                                     "got": first.got}
        if m.status == "survived" and check_equivalence:
            if sva:
                m.detail["equivalence"] = "not checked: Yosys 0.23 cannot read concurrent SVA"
            else:
                proved, how = equivalent(ref, m.source, suite.contract, observation=suite.observation(),
                                         multi_clock=suite.family == "async_fifo")
                m.detail["equivalence"] = how
                if proved:
                    m.status = "equivalent"
    if on_progress:
        on_progress(len(ms), len(ms))
    counts = {k: sum(1 for m in ms if m.status == k) for k in ("killed", "survived", "equivalent", "invalid")}
    denom = counts["killed"] + counts["survived"]
    return {"family": suite.family, "variant": suite.variant, "params": suite.params, "mutants": len(ms),
            **counts, "score": counts["killed"] / denom if denom else 1.0,
            "survivors": [m.to_dict() | {"source_line": m.source.splitlines()[m.line - 1].strip()
                                         if m.operator != "stuck" else ""}
                          for m in ms if m.status in ("survived", "equivalent")],
            "by_operator": {op: {k: sum(1 for m in ms if m.operator == op and m.status == k)
                                 for k in ("killed", "survived", "equivalent", "invalid")}
                            for op in sorted({m.operator for m in ms})}}
