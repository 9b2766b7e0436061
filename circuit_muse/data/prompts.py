"""Paraphrase templates for training instructions. A seeded rng picks one per record, so builds are
reproducible; the eval prompts (data/eval_prompts.jsonl) use the suites' canonical wording instead."""
from __future__ import annotations

import random
from collections.abc import Sequence

from ..suites.spec import Spec

GENERATE_OPENERS = (
    "Write a synthesizable Verilog module `{module}` that implements {title}.",
    "Implement {title} in synthesizable Verilog. Name the module `{module}`.",
    "Design the RTL for {title} (module `{module}`).",
    "Our block needs {title}. Provide the Verilog for module `{module}`.",
    "Create a synthesizable Verilog-2001 module named `{module}`: {title}.",
    "Produce production-quality RTL for `{module}`, {title}.",
    "Please write `{module}`, {title}, as synthesizable Verilog.",
    "You are implementing {title} for an ASIC/FPGA project. Write the module `{module}` in Verilog.",
)

SPEC_HEADINGS = (("Requirements:", "Interface (use exactly this header):"),
                 ("Specification:", "Module header:"),
                 ("Behaviour:", "Module header to use:"),
                 ("Functional requirements:", "Use this module declaration:"))

DEBUG_OPENERS = (
    "The module `{module}` below is supposed to implement {title}, but it fails verification.",
    "A colleague wrote this `{module}` ({title}). It does not pass the regression.",
    "This RTL for {title} (`{module}`) has a bug.",
    "Code review request: `{module}` should implement {title}, yet the checks fail.",
    "Our verification run flagged `{module}`, which implements {title}.",
)

DEBUG_ASKS = (
    "Find the bug, explain the root cause, and give the corrected module.",
    "Identify the defect and provide a fixed version of the module.",
    "Explain what is wrong and write the corrected RTL.",
    "Debug it: say what the bug is and return the repaired module.",
)

EXPLAIN_WHAT = (
    "Explain what the Verilog module `{module}` below does: its interface, its behaviour and any timing details a "
    "user must know.",
    "Walk me through this RTL for `{module}`. What does it implement and how does it behave cycle by cycle?",
    "Describe the function of the module `{module}` below as you would in a design review.",
)

ASSERT_OPENERS = (
    "Write a SystemVerilog assertion checker module `{module}`: {title}.",
    "Create an SVA checker named `{module}` ({title}).",
    "I need a bindable assertion module `{module}` that implements {title}.",
    "Write concurrent SystemVerilog assertions in a module `{module}`: {title}.",
)

ASSERT_FIX_OPENERS = (
    "This SVA checker `{module}` is meant to implement {title}, but it does not catch the violations it should "
    "(or fires on legal traffic).",
    "The assertion in `{module}` ({title}) is wrong according to the verification team.",
)


def pick(rng: random.Random, options: Sequence[str]) -> str:
    return options[rng.randrange(len(options))]


def bullets(lines: Sequence[str]) -> str:
    return "\n".join(ln if ln.lstrip().startswith("-") else f"- {ln}" for ln in lines if ln.strip())


def generate_instruction(rng: random.Random, module: str, title: str, spec_lines: Sequence[str], header: str,
                         *, params_note: str = "") -> str:
    opener = pick(rng, GENERATE_OPENERS).format(module=module, title=title)
    req, hdr = pick(rng, SPEC_HEADINGS)
    parts = [opener]
    if params_note:
        parts.append(params_note)
    parts += ["", req, bullets(spec_lines), "", hdr, "```verilog", header.strip(), "```"]
    return "\n".join(parts).strip()


def spec_lines(spec: Spec) -> list[str]:
    """A suite Spec's requirements as bullet lines: ports, behaviour and timing."""
    lines = [f"`{p.name}`: {p.direction}, {p.width} bit{'s' if p.width > 1 else ''}" for p in spec.contract.ports]
    ports = "Ports: " + "; ".join(lines) + "."
    return [ports, *spec.behaviour, *spec.timing]


def suite_params_note(spec: Spec) -> str:
    if not spec.contract.params:
        return ""
    plist = ", ".join(f"`{k}` (default {v})" for k, v in spec.contract.params.items())
    return f"Declare the parameters {plist}."


def article_title(title: str) -> str:
    """Prefix 'a'/'an' unless the title has an article; fix 'a 8-bit' to 'an 8-bit'."""
    import re

    if title.split(" ", 1)[0] not in ("a", "an", "the"):
        title = f"a {title}"
    return re.sub(r"^a (?=(?:8|11|18|8\d)\b|8\d-|[aeiouAEIO])", "an ", title)   # "a UART", "an AXI"
