"""Prompt matcher: plain English -> (family, variant, params), with a confidence and the reasons.

Rule based and explainable: family cues are weighted keywords, variant tokens and parameters come from
targeted patterns. When no family cue is strong enough, or the prompt names a different kind of design
(UART, ALU, FSM ...) and only weak cues remain, match() returns None: the caller then runs lint and
synthesis only, and says that no functional test ran.

A match also says what it could not honour. `Match.ignored` lists what the prompt asks for that no variant
of the family can express (a reset value other than 0, an extra output, a falling clock edge, a step of 2,
...): testing against that suite would contradict the prompt, so the loop falls back to static checks.
`Match.adapted` lists what was mapped onto the closest variant (a register's `load` input is its `en`).
Counters and registers take a reset value (the RESET parameter); a value the width cannot hold is ignored.
`Match.unsure` is true when either list is non-empty or the confidence is below CONFIDENT; the loop then
tells the user what it matched and what it ignored instead of imposing the suite silently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .base import Suite

CONFIDENT = 0.7  # below this, a match is reported as unsure (the loop says so before it starts)
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
                 r"\bpipeline register\b", 0.75),
    ("register", r"\bregister\b", 0.6),
]
# Designs we have no suite for: with only weak cues, these mean "no match".
_FOREIGN = re.compile(r"\b(register file|regfile|uart|spi|i2c|alu|multipl(y|ier)|adder|subtractor|divider|decoder|encoder|mux|"
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
    ignored: list[str] = field(default_factory=list)
    adapted: list[str] = field(default_factory=list)

    @property
    def unsure(self) -> bool:
        """Below CONFIDENT, or the prompt asks for something the variant changes or cannot express."""
        return self.confidence < CONFIDENT or bool(self.ignored) or bool(self.adapted)

    @property
    def contradicts_prompt(self) -> bool:
        """True when testing against this suite would check behaviour the prompt did not ask for."""
        return bool(self.ignored)

    def suite(self, **kw: Any) -> Suite:
        from .registry import get_suite

        return get_suite(self.family, self.variant, self.params, parameterized=self.parameterized, **kw)

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "variant": self.variant, "params": dict(self.params),
                "confidence": round(self.confidence, 3), "why": list(self.why),
                "parameterized": self.parameterized, "tokens": list(self.tokens), "ignored": list(self.ignored),
                "adapted": list(self.adapted), "unsure": self.unsure}


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
               r"\b(stops?|stopping|halts?|stays?|holds?|freezes?) (counting )?(at|on) (zero|0)\b|"
               r"\bnever (goes )?(below|under) (zero|0)\b|\bdoes ?n[o']t (go )?(below|under) (zero|0)\b|\bnever underflows?\b|"
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

_VALUE = r"(\d+|'[bdh][0-9a-f_]+|\d+'[bdh][0-9a-f_]+|0x[0-9a-f]+|all[- ]?(ones|1s)|ones)"


def _value(text: str) -> int | None:
    """A literal from a prompt: 63, 0x3f, 8'hff, 'b1010; 'all ones' is -1 (nonzero, width unknown)."""
    text = text.replace("_", "")
    if "one" in text or "1s" in text:
        return -1
    if text.startswith("0x"):
        return int(text, 16)
    m = re.fullmatch(r"\d*'([bdh])([0-9a-f]+)", text)
    if m:
        return int(m.group(2), {"b": 2, "d": 10, "h": 16}[m.group(1)])
    return int(text) if text.isdigit() else None


# (pattern, what the prompt asks for that no variant of these families expresses)
_UNSUPPORTED: list[tuple[tuple[str, ...], str, str]] = [
    (("counter",), r"\b(terminal[- ]count|tc (output|signal|flag)|carry[- ]?out|(overflow|underflow|wrap|rollover|"
                   r"zero|done|max) (flag|output|signal|bit|indicator|pulse|tick)|max_?tick|\bzero_flag)\b",
     "an extra status output ({0!r}); the counter suites have only `count`"),
    (("counter",), r"\b(johnson|ring|gray(-code)?|one[- ]hot|thermometer) counter\b",
     "a {0} (the counter suites count in binary)"),
    (("counter",), r"\b\d+[- ]digit\b", "a multi-digit counter ({0!r}); the suites count one binary value"),
    (("counter", "register", "fifo"), r"\basync(hronous(ly)?)? (parallel )?load\b|\bload(s|ed)? asynchronously\b",
     "an asynchronous load ({0!r}); the suites load on the clock edge"),
    (("counter", "register", "fifo", "arbiter"), r"\bactive[- ]low (count )?enable\b|\benable (is |that is )?"
                                                 r"active[- ]low\b|\ben_n\b|\benable_n\b|\bn_en\b",
     "an active-low enable ({0!r}); the suites enable on 1"),
    (("counter", "register", "fifo", "arbiter"), r"\bfalling[- ]edge( of (the )?(clk|clock))?\b|\bnegative[- ]edge[- ]"
                                                 r"(triggered|clock(ed)?)\b|\bnegedge clk\b|\bdual[- ]edge\b|"
                                                 r"\bboth (clock )?edges\b",
     "a clock other than the rising edge ({0!r}); the suites clock on the rising edge"),
    (("counter", "register", "fifo", "arbiter"), r"\b(no|without( a| any)?) reset\b|\bresetless\b",
     "no reset ({0!r}); every suite drives a reset input"),
    (("counter", "register", "fifo", "arbiter"), r"\bboth (a )?synchronous and (an )?asynchronous\b|"
                                                 r"\b(synchronous|sync) (clear|reset) and (an )?(asynchronous|async)\b|"
                                                 r"\b(asynchronous|async) (clear|reset) and (a )?(synchronous|sync)\b",
     "two resets ({0!r}); the suites have one"),
    (("counter", "register"), r"\b(synchronous |async(hronous)? )?(set|preset) (input|signal|pin)\b|\bset and reset\b",
     "a set/preset input ({0!r}); the suites have only a reset to 0"),
    (("counter", "register"), r"\boutput[- ]enable\b|\btri[- ]?state\b|\bhigh[- ]impedance\b|\bhi[- ]?z\b",
     "a tri-state output ({0!r})"),
    (("counter", "register"), r"\bsigned\b", "signed arithmetic ({0!r})"),
    (("register",), r"\bshift(s|ing)? (to the )?right\b|\bright[- ]shift\w*\b|\bbidirectional shift\b|"
                    r"\buniversal shift\b|\bshift (left or right|right or left)\b",
     "a shift direction other than left ({0!r}); the shift-register suite shifts `din` in at bit 0"),
    (("register",), r"\bparallel[- ]in\b|\bpiso\b|\bparallel[- ]load\b|\bsiso\b|\bserial[- ]out(put)?\b|"
                    r"\bserial[- ]in,? serial[- ]out\b",
     "a parallel load or a serial output ({0!r}); the shift-register suite has `din` in and `q` out only"),
    (("fifo", "async_fifo"), r"\b(overflow|underflow|error) (flag|output|signal|bit|indicator)s?\b|\bdata[_ ]valid\b|"
                             r"\brd_valid\b|\bvalid (output|flag)\b|\bflush\b|\bpeek\b",
     "an extra port ({0!r}) the fifo suites do not have"),
    (("arbiter",), r"\bweighted\b|\bleast[- ]recently[- ]used\b|\blru\b|\bmatrix arbiter\b|\bprogrammable "
                   r"priorit(y|ies)\b|\bpriority levels?\b|\block(ing|ed)?\b|\bgrant[_ ]valid\b|\bbusy\b",
     "an arbitration scheme or port ({0!r}) beyond round-robin and fixed priority"),
]


def _limits(family: str, t: str, tokens: list[str], params: dict[str, int]) -> tuple[list[str], list[str], list[str]]:
    """What the prompt asks for that the family cannot express (ignored) or expresses differently (adapted),
    and variant tokens that follow from that."""
    ignored: list[str] = []
    adapted: list[str] = []
    extra: list[str] = []
    for fams, pat, what in _UNSUPPORTED:
        m = _search(pat, t) if family in fams else None
        if m:
            ignored.append(what.format(m.group(0)))
    if family in ("counter", "register", "fifo", "arbiter"):
        m = _search(r"\b(?:resets?|reset value|initial value|power[- ]on value|initiali[sz]ed?|starts?|starting|"
                    r"clears?|counts? down)\s+(?:value\s+)?(?:of\s+|is\s+|to\s+|at\s+|from\s+|=\s*|with\s+)+(?:the "
                    r"value\s+)?" + _VALUE + r"(?![\w'])", t) or \
            _search(r"\breset value\s*(?:of|is|=|:)?\s*" + _VALUE + r"(?![\w'])|\breset\s*[=:]\s*" + _VALUE +
                    r"(?![\w'])", t)
        v = _value(m.group(1)) if m else None
        if v and family in ("counter", "register"):  # expressible: the RESET parameter
            params["RESET"] = (1 << params.get("WIDTH", 8)) - 1 if v < 0 else v
        elif v:
            ignored.append(f"a reset value of {m.group(1)} (the {family} suites reset to 0)")
    if family == "counter":
        m = _search(r"\b(?:count(?:s|ing)? by|increments? by|decrements? by|steps? (?:of|by|size(?: of)?)|in steps of) "
                    + _NUM + r"\b", t)
        if m and _num(m.group(1)) != 1:
            ignored.append(f"a step of {m.group(1)} (the counter suites step by 1)")
        m = _search(r"\b(?:stops?|stopping|halts?|stays?|saturates?) (?:counting )?(?:at|on) (\d+)\b", t)
        if m and m.group(1) != "0" and int(m.group(1)) != mask_of(params.get("WIDTH")):
            ignored.append(f"stopping at {m.group(1)} (saturating counters stop at 0 and at 2**WIDTH-1 only)")
    if family in ("counter", "register"):
        widths = {_num(w) for w in re.findall(r"\b" + _NUM + r"[- ]?bits?\b(?![- ]*(?:address|addr))", t)}
        if len(widths) > 1:
            ignored.append(f"more than one width ({', '.join(str(w) for w in sorted(widths))} bits); the "
                           f"{family} suites have one WIDTH for every port")
    if family == "register" and "shift" not in tokens and "en" not in tokens and \
            _search(r"\bloads?\b|\bload(ed|ing)\b|\bwrite[- ]enable\b|\bwe\b", t):
        extra.append("en")
        adapted.append("the prompt's load/write-enable input is the suite's enable input `en`")
    return ignored, adapted, extra


def mask_of(width: int | None) -> int:
    return (1 << width) - 1 if width else -1


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
    ignored, adapted, extra = _limits(family, t, tokens, params)
    tokens += extra
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
        # the defaults would test a different design than the one asked for: say so, never impose them
        ignored.append(f"parameters {dict(params)} ({exc})")
        conf -= 0.2
        suite = cls("-".join(kept) or None, {}, parameterized=parameterized)
    for item in ignored:
        why.append(f"cannot express: {item}")
    return Match(family=family, variant=suite.variant, params=dict(suite.params), confidence=max(0.0, min(1.0, conf)),
                 why=why, parameterized=suite.parameterized, tokens=kept, ignored=ignored, adapted=adapted)
