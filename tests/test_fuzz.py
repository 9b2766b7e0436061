"""Seeded, bounded fuzzing of the whole verify path: mutated references and hostile designs, deep nesting,
macro chains. Every input gets a report with a category, and the calling process survives.

The seed changes every run (printed; set CM_FUZZ_SEED to replay one)."""
from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

import circuit_muse as cm
from circuit_muse.suites import family_names, get_suite

pytestmark = pytest.mark.simulator
HERE = Path(__file__).parent
N_INPUTS = 48

SNIPPETS = [
    "`ifdef VERILATOR\n", "`ifdef __ICARUS__\n", "`ifndef SYNTHESIS\n", "`else\n", "`endif\n", "`define M 1\n",
    "`define A(x) (x)\n", "`A(", "`M", "`include \"/etc/hostname\"\n", "`line 1 \"x\" 0\n", "\\q\" ", "\\esc;aped ",
    "$system(\"true\");", "$fopen(\"x\");", "$display(\"CM_RESULT pass=1 fail=0\");", "$c(\"x\");",
    "force tb.errors = 0;", "$root.tb.x = 0;", "tb.fail = 0;", "(", ")", "[", "]", "{", "}", "begin ", "end ",
    "module m2; endmodule\n", "endmodule\n", ";", "// synopsys translate_off\n", "(* blackbox *)", "\"", "/*",
    "*/", "``", "`\"", "\\", "\x00", "\u00e9", "assign y = ", " ^ a", "always @(posedge clk) ", "#1 ",
]


def _seed() -> int:
    env = os.environ.get("CM_FUZZ_SEED")
    return int(env) if env else int(time.time_ns() % 1_000_000_007)


def _corpus() -> list[str]:
    texts = [get_suite(f).reference_rtl() for f in family_names()]
    texts += [p.read_text() for p in sorted((HERE / "hostile").glob("*.*v"))]
    texts += [p.read_text() for p in sorted((HERE / "designs").glob("*.v"))]
    return texts


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        pos = rng.randrange(len(text) + 1)
        if op == 0:  # delete a span
            text = text[:pos] + text[pos + rng.randint(1, 40):]
        elif op == 1:  # insert a hostile or structural snippet
            text = text[:pos] + rng.choice(SNIPPETS) + text[pos:]
        elif op == 2:  # duplicate a span
            end = min(len(text), pos + rng.randint(1, 200))
            text = text[:end] + text[pos:end] + text[end:]
        elif op == 3:  # deep nesting
            depth = rng.choice([50, 300, 3000])
            opener, closer = rng.choice([("(", ")"), ("{", "}"), ("begin ", "end "), ("`A(", ")")])
            text = text[:pos] + opener * depth + "a" + closer * depth + text[pos:]
        elif op == 4:  # a macro chain, linear or doubling
            n = rng.choice([5, 30, 400])
            double = rng.random() < 0.5
            chain = "`define C0 1\n" + "".join(
                f"`define C{i} " + (f"(`C{i - 1}+`C{i - 1})" if double else f"`C{i - 1}") + "\n" for i in range(1, n))
            text = chain + text.replace("1'b0", f"`C{n - 1}", 1)
        elif op == 5:  # a long operator chain
            text = text[:pos] + " ^ a" * rng.choice([10, 2000, 40000]) + text[pos:]
        else:  # swap two lines
            lines = text.splitlines(keepends=True)
            if len(lines) > 2:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                text = "".join(lines)
    return text


def test_fuzzed_designs_all_get_a_categorised_report() -> None:
    seed = _seed()
    print(f"fuzz seed: {seed} (replay with CM_FUZZ_SEED={seed})")
    rng = random.Random(seed)
    corpus = _corpus()
    inputs = [_mutate(rng, rng.choice(corpus)) for _ in range(N_INPUTS)]
    opts = {"stages": ("extract", "screen", "parse", "lint", "synth"), "linters": ("iverilog",)}
    reports = cm.verify_many(inputs, options=opts, use_cache=False, workers=2, timeout_s=60)
    assert len(reports) == N_INPUTS, f"seed {seed}"
    for text, rep in zip(inputs, reports, strict=True):
        assert isinstance(rep.category, cm.Category), f"seed {seed}"
        assert rep.stages, f"seed {seed}: a report without stages"
        assert rep.passed == (rep.category is cm.Category.PASS), f"seed {seed}"
        internal = [d.message for d in rep.diagnostics if "internal error" in d.message]
        assert not internal, (f"seed {seed}", internal, text[:300])
    # The caller is alive and the workers still answer.
    assert cm.verify("module ok(input a, output y); assign y = a; endmodule\n", use_cache=False).level is cm.Level.STATIC
