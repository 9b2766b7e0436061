"""Screen an uploaded Verilog testbench: it is untrusted input, exactly like the design.

A bench may print, randomise, dump a waveform into its own directory and end the run; it may not run
commands, read or write other files, read plusargs, include files, paste tokens, or call DPI/VPI.
cocotb (Python) benches are code, so they are never accepted over HTTP.
"""
from __future__ import annotations

import re

from ..engine.preprocess import lexical_screen
from ..engine.screen import ALLOWED_SYSTEM_CALLS
from ..errors import TestbenchError

BENCH_SYSTEM_CALLS = ALLOWED_SYSTEM_CALLS | {
    "$display", "$displayb", "$displayh", "$displayo", "$write", "$strobe", "$monitor", "$finish", "$stop",
    "$fatal", "$error", "$warning", "$info", "$random", "$urandom", "$urandom_range", "$dumpvars", "$dumpfile",
    "$dumpoff", "$dumpon", "$timeformat", "$sformatf", "$psprintf",
}
# Verilog's lexical classes that can hide text: comments, strings and escaped identifiers (a `\` runs to the
# next whitespace, quotes included). Matching all of them left to right is what a real lexer does, so a quote
# inside an escaped identifier cannot open a fake string that hides an `include or a $system.
_STRIP = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\\\S+', re.S)
_CALL = re.compile(r"\$[A-Za-z_][A-Za-z0-9_$]*")
_DUMPFILE = re.compile(r'\$dumpfile\s*\(\s*"([^"]*)"\s*\)')
# Checked on the code with strings emptied: directives, and DPI imports (whose "DPI-C" string is emptied too).
_FORBIDDEN = re.compile(r'`(?:include|system|pragma)\b|\b(?:import|export)\s+""|\$pli', re.I)
_SAFE_WAVE = re.compile(r"[A-Za-z0-9_.-]{1,64}\.vcd")


def screen_bench(text: str, *, name: str = "testbench") -> None:
    """Raise TestbenchError naming the first unsafe construct in an uploaded bench."""
    for m in _STRIP.finditer(text):
        if m.group(0).startswith("\\"):
            raise TestbenchError(f"{name} line {text.count(chr(10), 0, m.start()) + 1}: escaped identifiers "
                                 f"({m.group(0)[:40]!r}) are not allowed in an uploaded testbench; use plain names")
    for problem in lexical_screen(text):  # the corners where a tool's preprocessor reads other tokens
        raise TestbenchError(f"{name} line {problem.line}: {problem.message}")
    code = _STRIP.sub(lambda m: '""' if m.group(0).startswith('"') else " " * len(m.group(0)), text)
    if "``" in code:
        raise TestbenchError(f"{name} line {text.count(chr(10), 0, code.index('``')) + 1}: macro token pasting "
                             "(``) is not allowed in an uploaded testbench")
    m = _FORBIDDEN.search(code)
    if m:
        raise TestbenchError(f"{name} line {text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r} is not allowed "
                             "in an uploaded testbench")
    for call in _CALL.finditer(code):
        if call.group(0) not in BENCH_SYSTEM_CALLS:
            line = text.count("\n", 0, call.start()) + 1
            raise TestbenchError(f"{name} line {line}: {call.group(0)} is not allowed in an uploaded testbench "
                                 f"(allowed: printing, $finish, randomness, $dumpfile/$dumpvars)")
    no_comments = _STRIP.sub(lambda m: m.group(0) if m.group(0).startswith('"') else " ", text)
    literal = _DUMPFILE.findall(no_comments)
    if len(literal) != code.count("$dumpfile"):
        raise TestbenchError(f"{name}: $dumpfile must be given a string literal, like $dumpfile(\"waves.vcd\")")
    for wave in _DUMPFILE.finditer(no_comments):
        if not _SAFE_WAVE.fullmatch(wave.group(1)):
            raise TestbenchError(f"{name}: $dumpfile({wave.group(1)!r}) must name a plain .vcd file in the run's "
                                 "own directory, like \"waves.vcd\"")
