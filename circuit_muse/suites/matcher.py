"""Prompt matcher: plain English -> (family, variant, params), with a confidence and the reasons.

Rule based and explainable: family cues are weighted keywords, variant tokens and parameters come from
targeted patterns. When no family cue is strong enough, or the prompt names a different kind of design
(UART, ALU, FSM ...) and only weak cues remain, match() returns None: the caller then runs lint and
synthesis only, and says that no functional test ran.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .base import Suite

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "twelve": 12, "sixteen": 16, "thirty-two": 32, "sixty-four": 64,
                 "single": 1, "dual": 2, "quad": 4}
_NUM = r"(\d+|" + "|".join(_NUMBER_WORDS) + r")"

# (family, pattern, weight): the strongest cue wins; ties go to the earlier (more specific) family.
_FAMILY_CUES: list[tuple[str, str, float]] = [
    ("assertion", r"\bassertions?\b|\bsva\b|assert\s+property|\bproperty\b.*\b(check|verif)|\bchecker\b", 0.95),
    ("axi_lite", r"\baxi[- ]?4?[- ]?lite\b|\baxi4?l\b|\baxi[- ]?lite\b", 0.95),
    ("axi_lite", r"\baxi\b.*\b(slave|register|regs|subordinate|peripheral|interface)\b", 0.85),
    ("async_fifo", r"\b(async(hronous)?|dual[- ]clock|two[- ]clock|multi[- ]clock|clock[- ]domain[- ]crossing|"
                   r"cdc|independent clocks?|separate (read and write )?clocks?)\b.*\bfifo\b|\bfifo\b.*\b("
                   r"async(hronous)?|dual[- ]clock|two clocks|clock domains?|cdc|gray[- ]cod(e|ed)|"
                   r"independent (read and write )?clocks?|different clocks?|separate clocks?|unrelated clocks?)\b", 0.95),
    ("fifo", r"\bfifos?\b|first[- ]in,? first[- ]out", 0.9),
    ("arbiter", r"\barbiters?\b|\barbitration\b|\bround[- ]robin\b", 0.9),
    ("counter", r"\bcounters?\b|\bcnt\b|\bcount(s|ing)? (up|down)\b|\bup[/ -]down\b", 0.85),
    ("register", r"\bshift[- ]?registers?\b|\bflip[- ]?flops?\b|\bd[- ]?ffs?\b|\bdff\b|\bd[- ]type\b", 0.9),
    ("register", r"\b(\d+|n)[- ]?bits?\b.*\bregisters?\b|\bregisters?\b.*\b(enable|reset|load|d input|clock)\b|"
                 r"\bpipeline register\b|\bregister\b", 0.6),
]
# Designs we have no suite for: with only weak cues, these mean "no match".
_FOREIGN = re.compile(r"\b(uart|spi|i2c|alu|multipl(y|ier)|adder|subtractor|divider|decoder|encoder|mux|"
                      r"multiplexer|state machine|fsm|ram|rom|cache|memory controller|pwm|debounc\w*|crc|cpu|"
                      r"processor|risc|uart|ethernet|usb|pcie|dma|timer|watchdog|comparator|seven[- ]segment|"
                      r"7[- ]segment|barrel shifter|lfsr|gray code converter|parity)\b")


@dataclass
class Match:
    """The suite a prompt asks for: family, canonical variant, parameters, and how sure we are (0..1)."""

    family: str
    variant: str
    params: dict[str, int]
    confidence: float
    why: list[str] = field(default_factory=list)
    parameterized: bool | None = None
    tokens: list[str] = field(default_factory=list)

    def suite(self, **kw: Any) -> Suite:
        from .registry import get_suite

        return get_suite(self.family, self.variant, self.params, parameterized=self.parameterized, **kw)

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "variant": self.variant, "params": dict(self.params),
                "confidence": round(self.confidence, 3), "why": list(self.why),
                "parameterized": self.parameterized, "tokens": list(self.tokens)}


def _num(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBER_WORDS[text]


def _search(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(pattern, text)


def _reset_tokens(t: str, why: list[str]) -> list[str]:
    out = []
    rst = r"(resets?|rst\w*|clears?|reset signals?)"
    if _search(r"\basync(hronous(ly)?)?\b[\w\s,-]{0,25}?\b" + rst + r"|\b" + rst +
               r"\b[\w\s,-]{0,20}?\basync(hronous(ly)?)?\b", t):
        out.append("async")
        why.append("asynchronous reset")
    elif _search(r"\bsynchronous(ly)?\b[\w\s,-]{0,25}?\b" + rst + r"|\bsync\b[\w\s-]{0,12}\b" + rst +
                 r"|\b" + rst + r"\b[\w\s,-]{0,20}?\bsynchronous(ly)?\b", t):
        out.append("sync")
        why.append("synchronous reset")
    if _search(r"active[- ]?low|\blow[- ]active\b|\brst_?n\b|\bresetn\b|\breset_n\b|\bnegative[- ]?(edge )?reset|"
               r"\bareset_?n\b|\bn_?rst\b|\bnreset\b|\binverted reset\b", t):
        out.append("low")
        why.append("active-low reset")
    elif _search(r"active[- ]?high|\bhigh[- ]active\b|\bpositive reset\b", t):
        out.append("high")
        why.append("active-high reset")
    return out


def _has_enable(t: str) -> bool:
    return bool(_search(r"\benable[sd]?\b|\benabling\b|\ben\b|\bce\b|\bclock[- ]enable\b|\bcount[- ]enable\b|"
                        r"\bwhen enabled\b|\bgated by\b|\bonly when\b|\bhold\b.*\bunless\b", t))


def _width(t: str) -> int | None:
    m = _search(r"\b" + _NUM + r"[- ]?bits?\b(?![- ]*(address|addr))", t) or \
        _search(r"\bwidth\s*(?:of|=|:|is)?\s*(\d+)\b", t) or _search(r"\b(\d+)[- ]?bits? wide\b", t)
    return _num(m.group(1)) if m else None


def _counter(t: str, why: list[str], params: dict[str, int]) -> list[str]:
    toks = []
    if _search(r"\bup[/ -]?(and[/ -])?down\b|\bupdown\b|\bbidirectional\b|\bcount(s|ing)? (either )?up or down\b|"
               r"\bdirection (input|control|signal|select)\b|\bincrement or decrement\b", t):
        toks.append("updown")
        why.append("up/down")
    elif _search(r"\bdown[- ]?counter\b|\bcount(s|ing)? down\b|\bcountdown\b|\bdecrement(ing|s)?\b|"
                 r"\bdown[- ]counting\b", t):
        toks.append("down")
        why.append("counts down")
    if _search(r"\bload(s|ed|able|ing)?\b|\bpreset(table)?\b", t):
        toks.append("load")
        why.append("load")
    if _search(r"\bsaturat\w*|\bclamp(s|ed|ing)?\b|\bstick(s)? at\b|\bstops? at (the )?max|\bno wrap|"
               r"\bnot (wrap|overflow|roll)|\bwithout (wrapping|overflow|rolling)|\boverflows? silently\b", t):
        toks.append("sat")
        why.append("saturating")
    else:
        m = _search(r"\bmod(?:ulo)?[- ]?(?:n[- ]?=?[- ]?)?" + _NUM + r"\b", t) or \
            _search(r"\b" + _NUM + r"[- ]?(?:state|step)?[- ]?mod(?:ulo)?\b", t) or \
            _search(r"\bdivide[- ]by[- ]" + _NUM + r"\b", t)
        m2 = _search(r"\bcount(?:s|ing)? (?:from 0 )?(?:up )?to " + _NUM + r"\b(?: and (?:wrap|roll|restart))", t) or \
            _search(r"\b(?:0|zero) (?:to|through|\.\.) " + _NUM + r"\b", t)
        if m:
            toks.append("mod")
            params["MODULO"] = _num(m.group(1))
            why.append(f"modulo {params['MODULO']}")
        elif m2:
            toks.append("mod")
            params["MODULO"] = _num(m2.group(1)) + 1
            why.append(f"counts 0..{params['MODULO'] - 1}")
        elif _search(r"\bbcd\b|\bdecade\b|\bdecimal counter\b", t):
            toks.append("mod")
            params["MODULO"] = 10
            why.append("decade (modulo 10)")
        elif _search(r"\bmodulo\b|\bmod[- ]n\b", t):
            toks.append("mod")
            why.append("modulo-N")
    if _has_enable(t):
        toks.append("en")
        why.append("enable")
    w = _width(t)
    if w:
        params["WIDTH"] = w
    if "MODULO" in params and "WIDTH" not in params:
        params["WIDTH"] = max(1, (params["MODULO"] - 1).bit_length())
    return toks


def _register(t: str, why: list[str], params: dict[str, int]) -> list[str]:
    toks = []
    if _search(r"\bshift(ing)?\b|\bserial[- ]in\b|\bsipo\b", t):
        toks.append("shift")
        why.append("shift register")
    if _has_enable(t):
        toks.append("en")
        why.append("enable")
    w = _width(t) or (_num(m.group(1)) if (m := _search(r"\b" + _NUM + r"[- ]?(?:stage|tap)s?\b", t)) else None)
    if w:
        params["WIDTH"] = w
    elif _search(r"\bflip[- ]?flop\b|\bd[- ]?ff\b|\bdff\b|\bd[- ]type\b", t) and "shift" not in toks:
        params["WIDTH"] = 1
        why.append("single flip-flop (WIDTH=1)")
    return toks


def _fifo(t: str, why: list[str], params: dict[str, int]) -> list[str]:
    toks = []
    if _search(r"first[- ]word[- ]fall[- ]?through|\bfwft\b|\bshow[- ]?ahead\b|\bfall[- ]?through\b|"
               r"\bzero[- ]latency read\b|\bcombinational(ly)? read\b|\bdata (is )?available before\b", t):
        toks.append("fwft")
        why.append("first-word-fall-through")
    if _search(r"\b(fill|data|word|element|entry|item|occupancy|usage)[- ]?(count|level)s?\b|\boccupancy\b|"
               r"\bcount (output|of)\b|\bnumber of (stored )?(entries|words|items|elements)\b|\bfill level\b|"
               r"\bhow many\b", t):
        toks.append("count")
        why.append("count output")
    if _search(r"\balmost[_ -]?(full|empty)\b|\bnearly (full|empty)\b|\bprog(rammable)?[_ -]full\b", t):
        toks.append("almost")
        why.append("almost flags")
    m = _search(r"\bdepth\s*(?:of|=|:|is)?\s*" + _NUM + r"\b", t) or \
        _search(r"\b" + _NUM + r"[- ]?(?:deep|entr(?:y|ies)|words?|locations?|slots?|elements?)\b", t)
    if m:
        params["DEPTH"] = _num(m.group(1))
    m = _search(r"\b(?:data[- ]?)?width\s*(?:of|=|:|is)?\s*" + _NUM + r"\b", t) or \
        _search(r"\b" + _NUM + r"[- ]?bits?(?: wide| data| words?| entries)?\b", t)
    if m:
        params["WIDTH"] = _num(m.group(1))
    m = _search(r"\b" + _NUM + r"\s*x\s*" + _NUM + r"\b", t)
    if m and "DEPTH" not in params:
        params["DEPTH"], params["WIDTH"] = _num(m.group(1)), _num(m.group(2))
    return toks


def _arbiter(t: str, why: list[str], params: dict[str, int]) -> list[str]:
    toks = []
    if _search(r"\bfixed[- ]priority\b|\bstatic priority\b|\bpriority arbiter\b|\bpriority encoder\b|"
               r"\blowest (index|number)\b|\bhighest priority to\b|\breq(uest)?\s*\[?0\]? (has|gets|always)", t) and \
            not _search(r"\bround[- ]robin\b|\brotat", t):
        toks.append("fixed")
        why.append("fixed priority")
    else:
        toks.append("rr")
        why.append("round-robin")
    if _search(r"\bcombinational(ly)?\b|\bsame cycle\b|\bimmediately\b", t):
        toks.append("comb")
    elif _search(r"\bregistered\b|\bflopped\b|\bnext cycle\b", t):
        toks.append("reg")
    m = _search(r"\b" + _NUM + r"[- ]?(?:clients?|requesters?|requestors?|requests?|masters?|ports?|inputs?|"
                r"ways?|channels?|agents?|sources?|users?|devices?|lines?)\b", t) or \
        _search(r"\bn\s*=\s*(\d+)\b", t) or _search(r"\b(?:among|between|for|over) " + _NUM + r"\b", t)
    if m:
        params["N"] = _num(m.group(1))
    return toks


def _axi(t: str, why: list[str], params: dict[str, int]) -> list[str]:
    m = _search(r"\b" + _NUM + r"\s*(?:x\s*32[- ]?bit\s*)?(?:32[- ]?bit\s*)?(?:memory[- ]mapped |control |status |"
                r"software[- ]accessible |read/write |rw )?(?:registers|regs)\b", t)
    if m:
        params["N_REGS"] = _num(m.group(1))
    m = _search(r"\b" + _NUM + r"[- ]?bits? (?:byte )?(?:address|addr)", t) or \
        _search(r"\baddr(?:ess)?[_ ]width\s*(?:of|=|:|is)?\s*(\d+)\b", t)
    if m:
        params["ADDR_WIDTH"] = _num(m.group(1))
    elif "N_REGS" in params:
        params["ADDR_WIDTH"] = max(3, (4 * params["N_REGS"] - 1).bit_length() + 1)
    return []


def _assertion(t: str, why: list[str], params: dict[str, int]) -> list[str]:
    if _search(r"one[- ]?hot|\bonehot|at most one\b|\bmutually exclusive\b", t):
        why.append("one-hot property")
        return ["onehot"]
    if _search(r"\b(data|payload|addr(ess)?|wdata|tdata|bus)\b.*\b(stable|change|hold|constant|same)|"
               r"\b(stable|constant|unchanged)\b.*\b(data|payload)\b", t):
        why.append("payload-stable property")
        w = _width(t)
        if w:
            params["WIDTH"] = w
        return ["data_stable"]
    why.append("VALID-held-until-READY property")
    return ["valid_hold"]


_EXTRACT = {"counter": _counter, "register": _register, "fifo": _fifo, "async_fifo": _fifo, "arbiter": _arbiter,
            "axi_lite": _axi, "assertion": _assertion}


def match(prompt: str) -> Match | None:
    """Pick the suite for a free-form prompt, or None when nothing we can test matches (be clear, not clever)."""
    from .registry import suite_class

    t = " ".join(prompt.lower().replace("_", "_").split())
    # for picking the family only: "asynchronous reset" says nothing about clock domains
    tf = re.sub(r"\basync(hronous)?\s+(active[- ]?(low|high)\s+)?(resets?|rst\w*|clears?)\b", "reset", t)
    tf = re.sub(r"\bfirst[- ]in,? first[- ]out\b", "fifo", tf)
    scores: dict[str, float] = {}
    for fam, pat, weight in _FAMILY_CUES:
        if re.search(pat, tf) and weight > scores.get(fam, 0.0):
            scores[fam] = weight
    if not scores:
        return None
    order = [f for f, _, _ in _FAMILY_CUES]
    family = max(scores, key=lambda f: (scores[f], -order.index(f)))
    conf = scores[family]
    why = [f"family {family}: matched {family.replace('_', ' ')} cue"]
    # counter beats a weak "register" cue ("counter register"), fifo beats arbiter mentions of queues, etc.
    if family == "register" and "counter" in scores:
        family, conf = "counter", scores["counter"]
    foreign = _FOREIGN.search(t)
    if foreign and family != "assertion":
        conf -= 0.4 if conf < 0.8 else 0.15
        why.append(f"the prompt also names a {foreign.group(0)!r}, which has no suite")
    if conf < 0.5:
        return None
    params: dict[str, int] = {}
    tokens = _EXTRACT[family](t, why, params)
    if family in ("counter", "register", "fifo", "arbiter"):
        tokens += _reset_tokens(t, why)
    parameterized: bool | None = None
    if _search(r"\bparameteri[sz]\w*|\bparameters?\b|\bgeneric\b|\bconfigurable\b", t):
        parameterized = True
        why.append("parameterized")
    cls = suite_class(family)
    known = {v for a in cls.axes for v in a.values}
    tokens = [x for x in tokens if x in known]
    # keep only one value per axis (first wins)
    seen_axes: set[str] = set()
    kept = []
    for tok in tokens:
        axis = next(a.name for a in cls.axes if tok in a.values)
        if axis not in seen_axes:
            seen_axes.add(axis)
            kept.append(tok)
    try:
        suite = cls("-".join(kept) or None, {k: v for k, v in params.items() if k in cls.default_params},
                    parameterized=parameterized)
    except Exception as exc:  # noqa: BLE001 - parameters outside the family's range
        why.append(f"parameters not testable ({exc}); using defaults")
        conf -= 0.2
        suite = cls("-".join(kept) or None, {}, parameterized=parameterized)
    return Match(family=family, variant=suite.variant, params=dict(suite.params), confidence=max(0.0, min(1.0, conf)),
                 why=why, parameterized=suite.parameterized, tokens=kept)
