"""Training designs for the suite families: our own RTL renderers (not the suites' references), the family
bugs used for debug examples, and which (variant, params) configurations go to training and which to eval.

Every rendered design is checked against its family suite by the builder; nothing here is trusted.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

FAMILIES = ("register", "counter", "fifo", "async_fifo", "arbiter", "axi_lite")


@dataclass(frozen=True)
class FamilyConfig:
    """One family design point: variant tokens (the suite's axes), behavioural params, HDL style."""

    family: str
    variant: str
    params: tuple[tuple[str, int], ...]
    parameterized: bool = True
    style: str = "a"  # "a" or "b": two coding styles of the same behaviour

    @property
    def pdict(self) -> dict[str, int]:
        return dict(self.params)

    def choices(self) -> dict[str, str]:
        return dict(zip(AXES[self.family], self.variant.split("-"), strict=True)) if self.family in AXES else {}

    def key(self) -> str:
        ps = ",".join(f"{k}={v}" for k, v in self.params)
        return f"{self.family}/{self.variant}/{ps}/{'p' if self.parameterized else 'f'}"

    def point_key(self) -> str:
        """(family, variant, params) without the HDL style and parameterization: what train/eval split on."""
        return f"{self.family}/{self.variant}/" + ",".join(f"{k}={v}" for k, v in self.params)

    def record_params(self) -> dict[str, Any]:
        return {"variant": self.variant, **self.pdict, "parameterized": self.parameterized}


AXES: dict[str, tuple[str, ...]] = {
    "register": ("kind", "enable", "reset", "polarity"),
    "counter": ("direction", "enable", "load", "overflow", "reset", "polarity"),
    "fifo": ("read", "count", "almost", "reset", "polarity"),
    "arbiter": ("policy", "output", "reset", "polarity"),
}


def config_from_params(family: str, params: dict[str, Any]) -> FamilyConfig:
    p = {k: int(v) for k, v in params.items() if k not in ("variant", "parameterized", "style")}
    return FamilyConfig(family, str(params.get("variant", "default")), tuple(sorted(p.items())),
                        bool(params.get("parameterized", True)))


# ---------------------------------------------------------------------------------------------------
# helpers


def _rst(c: dict[str, str]) -> tuple[str, bool, bool]:
    low = c.get("polarity") == "low"
    return ("rst_n" if low else "rst"), low, c.get("reset") == "async"


def _sens(clk: str, rst: str, low: bool, is_async: bool) -> str:
    return f"posedge {clk}" + (f" or {'negedge' if low else 'posedge'} {rst}" if is_async else "")


def _active(rst: str, low: bool) -> str:
    return f"!{rst}" if low else rst


def _reset_comment(rst: str, low: bool, is_async: bool) -> str:
    return f"{'Asynchronous' if is_async else 'Synchronous'}, active-{'low' if low else 'high'} reset ({rst})."


def _clean(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _header(name: str, params: list[tuple[str, int]], ports: list[str]) -> str:
    out = [f"module {name}"]
    if params:
        out[0] += " #("
        out += [f"    parameter integer {k} = {v}{',' if i < len(params) - 1 else ''}" for i, (k, v) in enumerate(params)]
        out.append(") (")
    else:
        out[0] += " ("
    out += [f"    {p}{',' if i < len(ports) - 1 else ''}" for i, p in enumerate(ports)]
    out.append(");")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------
# register family


def module_name(cfg: FamilyConfig) -> str:
    c, p = cfg.choices(), cfg.pdict
    if cfg.family == "register":
        return "shift_reg" if c["kind"] == "shift" else ("dff" if p["WIDTH"] == 1 else "register")
    if cfg.family == "axi_lite":
        return "axi_lite_regs"
    return cfg.family


def render_register(cfg: FamilyConfig) -> str:
    c, w = cfg.choices(), cfg.pdict["WIDTH"]
    rst, low, is_async = _rst(c)
    shift, en = c["kind"] == "shift", c["enable"] == "en"
    name = module_name(cfg)
    ports = ["input  wire             clk", f"input  wire             {rst}"]
    if en:
        ports.append("input  wire             en")
    ports.append("input  wire             din" if shift else "input  wire [WIDTH-1:0] d")
    ports.append("output reg  [WIDTH-1:0] q")
    what = (f"{w}-bit serial-in, parallel-out shift register (din enters at bit 0)" if shift
            else ("D flip-flop" if w == 1 else f"{w}-bit register"))
    lines = [f"// {what[0].upper() + what[1:]}.", f"// {_reset_comment(rst, low, is_async)}"
             + (" Clock enable: en." if en else ""), _header(name, [("WIDTH", w)], ports)]
    if shift and w > 1:
        nxt = "{q[WIDTH-2:0], din}"
    elif shift:
        nxt = "din"
    else:
        nxt = "d"
    if cfg.style == "a":
        body = [f"    always @({_sens('clk', rst, low, is_async)}) begin",
                f"        if ({_active(rst, low)}) begin",
                "            q <= {WIDTH{1'b0}};",
                f"        end else{' if (en)' if en else ''} begin",
                f"            q <= {nxt};",
                "        end",
                "    end"]
    else:
        body = [f"    wire [WIDTH-1:0] q_next = {'en ? ' + nxt + ' : q' if en else nxt};", "",
                f"    always @({_sens('clk', rst, low, is_async)}) begin",
                f"        if ({_active(rst, low)})",
                "            q <= {WIDTH{1'b0}};",
                "        else",
                "            q <= q_next;",
                "    end"]
    if shift and w == 1 and cfg.style == "b":
        body[0] = f"    wire [WIDTH-1:0] q_next = {'en ? din : q' if en else 'din'};"
    return _clean("\n".join(lines + [""] + body + ["endmodule"]))


# ---------------------------------------------------------------------------------------------------
# counter family


def render_counter(cfg: FamilyConfig) -> str:
    c, p = cfg.choices(), cfg.pdict
    w, modulo = p["WIDTH"], p["MODULO"]
    rst, low, is_async = _rst(c)
    en, load, ov, d = c["enable"] == "en", c["load"] == "load", c["overflow"], c["direction"]
    ports = ["input  wire             clk", f"input  wire             {rst}"]
    if en:
        ports.append("input  wire             en")
    if d == "updown":
        ports.append("input  wire             up")
    if load:
        ports += ["input  wire             load", "input  wire [WIDTH-1:0] d"]
    ports.append("output reg  [WIDTH-1:0] count")
    params = [("WIDTH", w)] + ([("MODULO", modulo)] if ov == "mod" else [])
    dir_word = {"up": "Up", "down": "Down", "updown": "Up/down"}[d]
    ov_word = {"wrap": "wraps around", "sat": "saturates at 0 and 2**WIDTH-1", "mod": "counts modulo MODULO"}[ov]
    feats = [f for f, on in (("clock enable", en), ("synchronous load (priority over counting)", load)) if on]
    head = [f"// {dir_word} counter, {w} bits; {ov_word}.",
            f"// {_reset_comment(rst, low, is_async)}" + (f" Features: {', '.join(feats)}." if feats else ""),
            _header("counter", params, ports)]
    decl = []
    if ov == "mod":
        decl.append("    localparam [WIDTH-1:0] LAST = MODULO[WIDTH-1:0] - 1'b1;")
    if ov == "sat" and d != "down":
        decl.append("    localparam [WIDTH-1:0] MAX_COUNT = {WIDTH{1'b1}};")

    def up_expr() -> str:
        if ov == "wrap":
            return "count + 1'b1"
        if ov == "sat":
            return "(count == MAX_COUNT) ? count : count + 1'b1"
        return "(count == LAST) ? {WIDTH{1'b0}} : count + 1'b1"

    def down_expr() -> str:
        if ov == "wrap":
            return "count - 1'b1"
        if ov == "sat":
            return "(count == {WIDTH{1'b0}}) ? count : count - 1'b1"
        return "(count == {WIDTH{1'b0}}) ? LAST : count - 1'b1"

    if d == "updown":
        decl += [f"    wire [WIDTH-1:0] count_up   = {up_expr()};",
                 f"    wire [WIDTH-1:0] count_down = {down_expr()};"]
        step = "up ? count_up : count_down"
    else:
        step = up_expr() if d == "up" else down_expr()
    if cfg.style == "a":
        body = [f"    always @({_sens('clk', rst, low, is_async)}) begin",
                f"        if ({_active(rst, low)}) begin",
                "            count <= {WIDTH{1'b0}};"]
        if load:
            body += ["        end else if (load) begin", "            count <= d;"]
        body += [f"        end else{' if (en)' if en else ''} begin", f"            count <= {step};",
                 "        end", "    end"]
    else:
        body = ["    reg [WIDTH-1:0] count_nxt;", "", "    always @* begin"]
        if load:
            body += ["        if (load)", "            count_nxt = d;",
                     f"        else{' if (en)' if en else ''}", f"            count_nxt = {step};"]
            if en:
                body += ["        else", "            count_nxt = count;"]
        elif en:
            body += ["        if (en)", f"            count_nxt = {step};", "        else",
                     "            count_nxt = count;"]
        else:
            body += [f"        count_nxt = {step};"]
        body += ["    end", "", f"    always @({_sens('clk', rst, low, is_async)}) begin",
                 f"        if ({_active(rst, low)})", "            count <= {WIDTH{1'b0}};", "        else",
                 "            count <= count_nxt;", "    end"]
    return _clean("\n".join(head + [""] + decl + [""] + body + ["endmodule"]))


# ---------------------------------------------------------------------------------------------------
# synchronous FIFO family


def render_fifo(cfg: FamilyConfig) -> str:
    c, p = cfg.choices(), cfg.pdict
    w, depth = p["WIDTH"], p["DEPTH"]
    afull = p.get("AFULL") or depth - 1
    aempty = p.get("AEMPTY", 1)
    rst, low, is_async = _rst(c)
    fwft, count, almost = c["read"] == "fwft", c["count"] == "count", c["almost"] == "almost"
    ports = ["input  wire             clk", f"input  wire             {rst}",
             "input  wire             wr_en", "input  wire [WIDTH-1:0] wr_data",
             "input  wire             rd_en",
             f"output {'wire' if fwft else 'reg '} [WIDTH-1:0] rd_data",
             "output wire             full", "output wire             empty"]
    if count:
        ports.append("output wire [$clog2(DEPTH):0] count")
    if almost:
        ports += ["output wire             almost_full", "output wire             almost_empty"]
    params = [("WIDTH", w), ("DEPTH", depth)]
    if almost:
        params += [("AFULL", afull), ("AEMPTY", aempty)]
    head = [f"// Synchronous {'first-word-fall-through ' if fwft else ''}FIFO, DEPTH x WIDTH ({depth} x {w}).",
            f"// {_reset_comment(rst, low, is_async)}",
            "// Read and write pointers carry one extra wrap bit so full and empty are told apart.",
            _header("fifo", params, ports)]
    decl = ["    localparam integer AW = $clog2(DEPTH);", "",
            "    reg  [WIDTH-1:0] mem [0:DEPTH-1];",
            "    reg  [AW:0]      wr_ptr, rd_ptr;",
            "    wire             wr_fire = wr_en && !full;",
            "    wire             rd_fire = rd_en && !empty;"]
    if cfg.style == "a":
        decl += ["    wire [AW:0]      level = wr_ptr - rd_ptr;", "",
                 "    assign empty = (wr_ptr == rd_ptr);",
                 "    assign full  = (wr_ptr == {~rd_ptr[AW], rd_ptr[AW-1:0]});"]
    else:
        decl += ["    wire [AW:0]      level = wr_ptr - rd_ptr;", "",
                 "    assign empty = (level == {(AW+1){1'b0}});",
                 "    assign full  = level[AW];"]
    if count:
        decl.append("    assign count = level;")
    if almost:
        decl += ["    assign almost_full  = (level >= AFULL[AW:0]);",
                 "    assign almost_empty = (level <= AEMPTY[AW:0]);"]
    body = ["", f"    always @({_sens('clk', rst, low, is_async)}) begin",
            f"        if ({_active(rst, low)}) begin",
            "            wr_ptr <= {(AW+1){1'b0}};",
            "            rd_ptr <= {(AW+1){1'b0}};",
            "        end else begin",
            "            if (wr_fire)",
            "                wr_ptr <= wr_ptr + 1'b1;",
            "            if (rd_fire)",
            "                rd_ptr <= rd_ptr + 1'b1;",
            "        end",
            "    end", "",
            "    // Storage has no reset: only words that were written are ever read.",
            "    always @(posedge clk) begin",
            "        if (wr_fire)",
            "            mem[wr_ptr[AW-1:0]] <= wr_data;",
            "    end", ""]
    if fwft:
        body += ["    // First word falls through: the head of the queue is always on rd_data.",
                 "    assign rd_data = mem[rd_ptr[AW-1:0]];"]
    else:
        body += ["    always @(posedge clk) begin", "        if (rd_fire)",
                 "            rd_data <= mem[rd_ptr[AW-1:0]];", "    end"]
    return _clean("\n".join(head + [""] + decl + body + ["endmodule"]))


# ---------------------------------------------------------------------------------------------------
# arbiter family


def render_arbiter(cfg: FamilyConfig) -> str:
    c, n = cfg.choices(), cfg.pdict["N"]
    rst, low, is_async = _rst(c)
    rr, registered = c["policy"] == "rr", c["output"] == "reg"
    ports = ["input  wire         clk", f"input  wire         {rst}", "input  wire [N-1:0] req",
             f"output {'reg ' if registered else 'wire'} [N-1:0] gnt"]
    head = [f"// {n}-requester {'round-robin' if rr else 'fixed-priority'} arbiter, "
            f"{'registered' if registered else 'combinational'} one-hot grant.",
            f"// {_reset_comment(rst, low, is_async)}"
            + (" The priority pointer moves to one past the last grant." if rr else " req[0] has top priority."),
            _header("arbiter", [("N", n)], ports)]
    decl: list[str] = []
    if rr:
        if cfg.style == "a":
            # double-width mask trick: requests at or above the pointer win over the wrapped ones
            decl += ["    localparam integer PW = (N > 1) ? $clog2(N) : 1;",
                     "    localparam [PW-1:0] LAST_IDX = N[PW-1:0] - 1'b1;", "",
                     "    reg  [PW-1:0]  ptr;",
                     "    wire [31:0]    ptr_ext = {{(32-PW){1'b0}}, ptr};",
                     "    reg  [N-1:0]   grant_next;",
                     "    reg  [PW-1:0]  grant_idx;",
                     "    reg            found;",
                     "    integer        i;",
                     "    integer        j;", "",
                     "    // Search N positions starting at the pointer; the first request found wins.",
                     "    always @* begin",
                     "        grant_next = {N{1'b0}};",
                     "        grant_idx  = {PW{1'b0}};",
                     "        found      = 1'b0;",
                     "        for (i = 0; i < N; i = i + 1) begin",
                     "            j = (i + ptr_ext) % N;",
                     "            if (!found && req[j]) begin",
                     "                found         = 1'b1;",
                     "                grant_next[j] = 1'b1;",
                     "                grant_idx     = j[PW-1:0];",
                     "            end",
                     "        end",
                     "    end"]
        else:
            decl += ["    localparam integer PW = (N > 1) ? $clog2(N) : 1;",
                     "    localparam [PW-1:0] LAST_IDX = N[PW-1:0] - 1'b1;", "",
                     "    reg  [PW-1:0]  ptr;",
                     "    wire [31:0]    ptr_ext = {{(32-PW){1'b0}}, ptr};",
                     "    reg  [N-1:0]   grant_next;",
                     "    reg  [PW-1:0]  grant_idx;",
                     "    integer        k;",
                     "    integer        idx;", "",
                     "    // Scan from the lowest priority to the highest; the last match (highest priority) wins.",
                     "    always @* begin",
                     "        grant_next = {N{1'b0}};",
                     "        grant_idx  = {PW{1'b0}};",
                     "        idx        = 0;",
                     "        for (k = N - 1; k >= 0; k = k - 1) begin",
                     "            idx = (ptr_ext + k) % N;",
                     "            if (req[idx]) begin",
                     "                grant_next      = {N{1'b0}};",
                     "                grant_next[idx] = 1'b1;",
                     "                grant_idx       = idx[PW-1:0];",
                     "            end",
                     "        end",
                     "    end"]
        upd = ["            if (|req)",
               "                ptr <= (grant_idx == LAST_IDX) ? {PW{1'b0}} : grant_idx + 1'b1;"]
    else:
        if cfg.style == "a":
            decl += ["    // Isolate the lowest set bit: req & (~req + 1) is one-hot (or zero).",
                     "    wire [N-1:0] grant_next = req & (~req + {{(N-1){1'b0}}, 1'b1});"]
        else:
            decl += ["    reg  [N-1:0] grant_next;",
                     "    integer      k;", "",
                     "    always @* begin",
                     "        grant_next = {N{1'b0}};",
                     "        for (k = N - 1; k >= 0; k = k - 1) begin",
                     "            if (req[k])",
                     "                grant_next = {N{1'b0}} | ({{(N-1){1'b0}}, 1'b1} << k);",
                     "        end",
                     "    end"]
        upd = []
    body: list[str] = [""]
    if not registered:
        body += ["    assign gnt = grant_next;", ""]
    if rr or registered:
        body += [f"    always @({_sens('clk', rst, low, is_async)}) begin",
                 f"        if ({_active(rst, low)}) begin"]
        if rr:
            body.append("            ptr <= {PW{1'b0}};")
        if registered:
            body.append("            gnt <= {N{1'b0}};")
        body.append("        end else begin")
        if registered:
            body.append("            gnt <= grant_next;")
        body += upd + ["        end", "    end"]
    text = "\n".join(head + [""] + decl + body + ["endmodule"])
    if not rr and not registered:
        # the reset input is part of the interface but unused by a purely combinational arbiter
        text = text.replace("endmodule", f"    wire unused_ok = &{{1'b0, clk, {rst}}};\nendmodule")
    return _clean(text)


# ---------------------------------------------------------------------------------------------------
# async FIFO


def render_async_fifo(cfg: FamilyConfig) -> str:
    p = cfg.pdict
    w, depth = p["WIDTH"], p["DEPTH"]
    text = f"""// Dual-clock FIFO, {depth} x {w}, first-word-fall-through read.
// Binary pointers address the RAM; Gray-coded copies (one extra wrap bit) cross the clock domains through
// two-flop synchronizers, so each crossing changes at most one bit per clock. Flags are registered and
// pessimistic: wfull may stay high and rempty may stay high a few cycles after the other side moved.
module async_fifo #(
    parameter integer WIDTH = {w},
    parameter integer DEPTH = {depth}
) (
    input  wire             wclk,
    input  wire             wrst_n,
    input  wire             wr_en,
    input  wire [WIDTH-1:0] wr_data,
    output reg              wfull,
    input  wire             rclk,
    input  wire             rrst_n,
    input  wire             rd_en,
    output wire [WIDTH-1:0] rd_data,
    output reg              rempty
);
    localparam integer AW = $clog2(DEPTH);

    reg [WIDTH-1:0] ram [0:DEPTH-1];

    reg  [AW:0] wbin, wptr_gray;              // write pointer: binary and Gray
    reg  [AW:0] rbin, rptr_gray;              // read pointer: binary and Gray
    reg  [AW:0] rptr_gray_w1, rptr_gray_w2;   // read pointer synchronized into wclk
    reg  [AW:0] wptr_gray_r1, wptr_gray_r2;   // write pointer synchronized into rclk

    // ---------------- write domain ----------------
    wire [AW:0] wbin_nxt  = wbin + {{{{AW{{1'b0}}}}, (wr_en & ~wfull)}};
    wire [AW:0] wgray_nxt = (wbin_nxt >> 1) ^ wbin_nxt;
    // Full: next write Gray pointer equals the synchronized read pointer with the two MSBs inverted.
    wire        wfull_nxt = (wgray_nxt == {{~rptr_gray_w2[AW:AW-1], rptr_gray_w2[AW-2:0]}});

    always @(posedge wclk or negedge wrst_n) begin
        if (!wrst_n) begin
            wbin      <= {{(AW+1){{1'b0}}}};
            wptr_gray <= {{(AW+1){{1'b0}}}};
            wfull     <= 1'b0;
        end else begin
            wbin      <= wbin_nxt;
            wptr_gray <= wgray_nxt;
            wfull     <= wfull_nxt;
        end
    end

    always @(posedge wclk) begin
        if (wr_en && !wfull)
            ram[wbin[AW-1:0]] <= wr_data;
    end

    always @(posedge wclk or negedge wrst_n) begin
        if (!wrst_n)
            {{rptr_gray_w2, rptr_gray_w1}} <= {{(2*AW+2){{1'b0}}}};
        else
            {{rptr_gray_w2, rptr_gray_w1}} <= {{rptr_gray_w1, rptr_gray}};
    end

    // ---------------- read domain ----------------
    wire [AW:0] rbin_nxt   = rbin + {{{{AW{{1'b0}}}}, (rd_en & ~rempty)}};
    wire [AW:0] rgray_nxt  = (rbin_nxt >> 1) ^ rbin_nxt;
    wire        rempty_nxt = (rgray_nxt == wptr_gray_r2);

    always @(posedge rclk or negedge rrst_n) begin
        if (!rrst_n) begin
            rbin      <= {{(AW+1){{1'b0}}}};
            rptr_gray <= {{(AW+1){{1'b0}}}};
            rempty    <= 1'b1;
        end else begin
            rbin      <= rbin_nxt;
            rptr_gray <= rgray_nxt;
            rempty    <= rempty_nxt;
        end
    end

    always @(posedge rclk or negedge rrst_n) begin
        if (!rrst_n)
            {{wptr_gray_r2, wptr_gray_r1}} <= {{(2*AW+2){{1'b0}}}};
        else
            {{wptr_gray_r2, wptr_gray_r1}} <= {{wptr_gray_r1, wptr_gray}};
    end

    assign rd_data = ram[rbin[AW-1:0]];
endmodule
"""
    return _clean(text)


# ---------------------------------------------------------------------------------------------------
# AXI4-Lite register slave


def render_axi_lite(cfg: FamilyConfig) -> str:
    p = cfg.pdict
    aw, n = p["ADDR_WIDTH"], p["N_REGS"]
    text = f"""// AXI4-Lite slave register file: N_REGS x 32-bit registers at byte offsets 4*i.
// AW and W are accepted independently (either order); the write commits once both are held and is
// answered on B. Byte lanes follow WSTRB. Out-of-range addresses answer SLVERR and change nothing.
// Synchronous, active-low reset (aresetn).
module axi_lite_regs #(
    parameter integer ADDR_WIDTH = {aw},
    parameter integer N_REGS     = {n}
) (
    input  wire                  aclk,
    input  wire                  aresetn,
    // write address channel
    input  wire [ADDR_WIDTH-1:0] s_axi_awaddr,
    input  wire                  s_axi_awvalid,
    output wire                  s_axi_awready,
    // write data channel
    input  wire [31:0]           s_axi_wdata,
    input  wire [3:0]            s_axi_wstrb,
    input  wire                  s_axi_wvalid,
    output wire                  s_axi_wready,
    // write response channel
    output reg  [1:0]            s_axi_bresp,
    output reg                   s_axi_bvalid,
    input  wire                  s_axi_bready,
    // read address channel
    input  wire [ADDR_WIDTH-1:0] s_axi_araddr,
    input  wire                  s_axi_arvalid,
    output wire                  s_axi_arready,
    // read data channel
    output reg  [31:0]           s_axi_rdata,
    output reg  [1:0]            s_axi_rresp,
    output reg                   s_axi_rvalid,
    input  wire                  s_axi_rready
);
    localparam [1:0]   RESP_OKAY   = 2'b00;
    localparam [1:0]   RESP_SLVERR = 2'b10;
    localparam integer IW = ADDR_WIDTH - 2;                   // register index width
    localparam integer SW = (N_REGS > 1) ? $clog2(N_REGS) : 1; // storage index width

    reg [31:0] regs [0:N_REGS-1];

    // ---------------- write path ----------------
    reg                  aw_held, w_held;
    reg [ADDR_WIDTH-1:0] aw_addr_q;
    reg [31:0]           w_data_q;
    reg [3:0]            w_strb_q;

    assign s_axi_awready = !aw_held && !s_axi_bvalid;
    assign s_axi_wready  = !w_held && !s_axi_bvalid;

    wire                  aw_fire = s_axi_awvalid && s_axi_awready;
    wire                  w_fire  = s_axi_wvalid && s_axi_wready;
    wire                  have_aw = aw_held || aw_fire;
    wire                  have_w  = w_held || w_fire;
    wire [ADDR_WIDTH-1:0] wr_addr = aw_held ? aw_addr_q : s_axi_awaddr;
    wire [31:0]           wr_data = w_held ? w_data_q : s_axi_wdata;
    wire [3:0]            wr_strb = w_held ? w_strb_q : s_axi_wstrb;
    wire [IW-1:0]         wr_idx  = wr_addr[ADDR_WIDTH-1:2];
    wire                  wr_ok   = ({{{{(32-IW){{1'b0}}}}, wr_idx}} < N_REGS);
    wire [SW-1:0]         wr_sel  = wr_idx[SW-1:0];
    integer               r, b;

    always @(posedge aclk) begin
        if (!aresetn) begin
            aw_held      <= 1'b0;
            w_held       <= 1'b0;
            aw_addr_q    <= {{ADDR_WIDTH{{1'b0}}}};
            w_data_q     <= 32'd0;
            w_strb_q     <= 4'd0;
            s_axi_bvalid <= 1'b0;
            s_axi_bresp  <= RESP_OKAY;
            for (r = 0; r < N_REGS; r = r + 1)
                regs[r] <= 32'd0;
        end else begin
            if (s_axi_bvalid && s_axi_bready)
                s_axi_bvalid <= 1'b0;
            if (have_aw && have_w && !s_axi_bvalid) begin
                // both halves present: commit the write and answer on B
                aw_held      <= 1'b0;
                w_held       <= 1'b0;
                s_axi_bvalid <= 1'b1;
                s_axi_bresp  <= wr_ok ? RESP_OKAY : RESP_SLVERR;
                if (wr_ok) begin
                    for (b = 0; b < 4; b = b + 1)
                        if (wr_strb[b])
                            regs[wr_sel][8*b +: 8] <= wr_data[8*b +: 8];
                end
            end else begin
                if (aw_fire) begin
                    aw_held   <= 1'b1;
                    aw_addr_q <= s_axi_awaddr;
                end
                if (w_fire) begin
                    w_held   <= 1'b1;
                    w_data_q <= s_axi_wdata;
                    w_strb_q <= s_axi_wstrb;
                end
            end
        end
    end

    // ---------------- read path ----------------
    wire          ar_fire = s_axi_arvalid && s_axi_arready;
    wire [IW-1:0] rd_idx  = s_axi_araddr[ADDR_WIDTH-1:2];
    wire          rd_ok   = ({{{{(32-IW){{1'b0}}}}, rd_idx}} < N_REGS);

    assign s_axi_arready = !s_axi_rvalid;

    always @(posedge aclk) begin
        if (!aresetn) begin
            s_axi_rvalid <= 1'b0;
            s_axi_rdata  <= 32'd0;
            s_axi_rresp  <= RESP_OKAY;
        end else if (ar_fire) begin
            s_axi_rvalid <= 1'b1;
            s_axi_rdata  <= rd_ok ? regs[rd_idx[SW-1:0]] : 32'd0;
            s_axi_rresp  <= rd_ok ? RESP_OKAY : RESP_SLVERR;
        end else if (s_axi_rvalid && s_axi_rready) begin
            s_axi_rvalid <= 1'b0;
        end
    end
endmodule
"""
    return _clean(text)


RENDERERS = {"register": render_register, "counter": render_counter, "fifo": render_fifo,
             "arbiter": render_arbiter, "async_fifo": render_async_fifo,
             "axi_lite": render_axi_lite}


def _unparameterize(text: str) -> str:
    """Turn `module m #(parameter integer A = 8, ...) (ports);` into a plain header with literal port widths
    and the parameters as localparams (for prompts whose interface has no parameters)."""
    m = re.search(r"^module (\w+) #\(\n(.*?)\n\) \(\n(.*?)\n\);\n", text, re.S | re.M)
    if not m:
        return text
    params = dict(re.findall(r"parameter integer (\w+) = (\d+)", m.group(2)))
    ports = m.group(3)
    for name, val in params.items():
        token = f"[{name}-1:0]"
        ports = ports.replace(token, f"[{int(val) - 1}:0]".ljust(len(token)))
    locals_ = "\n".join(f"    localparam integer {k} = {v};" for k, v in params.items())
    head = f"module {m.group(1)} (\n{ports}\n);\n{locals_}\n"
    return text[:m.start()] + head + text[m.end():]


def render(cfg: FamilyConfig) -> str:
    text = RENDERERS[cfg.family](cfg)
    if not cfg.parameterized and cfg.family in ("register", "counter", "arbiter"):
        text = _clean(_unparameterize(text))
    return text


# ---------------------------------------------------------------------------------------------------
# which configurations train, which evaluate


def _all_variants(family: str) -> list[str]:
    from itertools import product

    values = {
        "register": (("reg", "shift"), ("noen", "en"), ("sync", "async"), ("high", "low")),
        "counter": (("up", "down", "updown"), ("noen", "en"), ("noload", "load"), ("wrap", "sat", "mod"),
                    ("sync", "async"), ("high", "low")),
        "fifo": (("reg", "fwft"), ("nocount", "count"), ("noalmost", "almost"), ("sync", "async"), ("low", "high")),
        "arbiter": (("rr", "fixed"), ("reg", "comb"), ("sync", "async"), ("low", "high")),
    }[family]
    return ["-".join(v) for v in product(*values)]


def _params_for(family: str, variant: str, rng: random.Random) -> dict[str, int]:
    c = dict(zip(AXES.get(family, ()), variant.split("-"), strict=False))
    if family == "register":
        return {"WIDTH": rng.choice((1, 4, 8, 8, 16, 32) if c["kind"] == "reg" else (4, 8, 8, 16))}
    if family == "counter":
        w = rng.choice((4, 8, 8, 12, 16))
        m = rng.choice((6, 10, 12, 60, 100)) if c["overflow"] == "mod" else 10
        while m > (1 << w):
            w += 4
        return {"WIDTH": w, "MODULO": m}
    if family == "fifo":
        d = rng.choice((4, 8, 16, 16, 32, 64))
        out = {"WIDTH": rng.choice((8, 8, 16, 32)), "DEPTH": d, "AFULL": 0, "AEMPTY": 1}
        if c["almost"] == "almost":
            out["AFULL"] = rng.choice((d - 1, d - 2, max(d // 2, 1)))
            out["AEMPTY"] = rng.choice((1, 1, 2))
        return out
    if family == "arbiter":
        return {"N": rng.choice((2, 3, 4, 4, 5, 8))}
    if family == "async_fifo":
        return {"WIDTH": rng.choice((8, 16, 32)), "DEPTH": rng.choice((4, 8, 16, 32))}
    if family == "axi_lite":
        aw = rng.choice((4, 5, 6, 8))
        return {"ADDR_WIDTH": aw, "N_REGS": rng.randint(1, 1 << (aw - 2))}
    return {}


# How many training design points per family (each becomes one generate record; a few also feed debug).
TRAIN_COUNTS = {"register": 16, "counter": 30, "fifo": 24, "arbiter": 16, "async_fifo": 5, "axi_lite": 4}
EVAL_COUNTS = {"register": 4, "counter": 8, "fifo": 6, "arbiter": 4, "async_fifo": 2, "axi_lite": 2}


def split_configs(seed: int = 2024) -> tuple[list[FamilyConfig], list[FamilyConfig]]:
    """(train, eval) design points, disjoint by (family, variant, params), drawn with a fixed seed."""
    rng = random.Random(seed)
    train: list[FamilyConfig] = []
    evals: list[FamilyConfig] = []
    for family in ("register", "counter", "fifo", "arbiter", "async_fifo", "axi_lite"):
        if family in ("async_fifo", "axi_lite"):
            variants = ["default" if family == "async_fifo" else "slverr"] * 40
        else:
            variants = _all_variants(family)
            rng.shuffle(variants)
        seen: set[str] = set()
        picked: list[FamilyConfig] = []
        want = TRAIN_COUNTS[family] + EVAL_COUNTS[family]
        i = 0
        while len(picked) < want and i < 10 * want:
            v = variants[i % len(variants)]
            i += 1
            params = _params_for(family, v, rng)
            cfg = FamilyConfig(family, v, tuple(sorted(params.items())),
                               parameterized=family in ("fifo", "async_fifo", "axi_lite") or rng.random() < 0.7,
                               style=rng.choice("ab"))
            k = f"{family}/{v}/{sorted(params.items())}"
            if k in seen:
                continue
            seen.add(k)
            picked.append(cfg)
        # eval takes every (train+eval)/eval-th point so it covers the axes too
        step = max(1, want // EVAL_COUNTS[family])
        ev = [cfg for j, cfg in enumerate(picked) if j % step == step - 1][:EVAL_COUNTS[family]]
        evals += ev
        train += [cfg for cfg in picked if cfg not in ev]
    return train, evals


# ---------------------------------------------------------------------------------------------------
# family bugs: (applies?, find, replace, symptom, explanation)


@dataclass(frozen=True)
class Bug:
    name: str
    find: str
    replace: str
    symptom: str
    explanation: str
    count: int = 1  # how many occurrences to replace (0: all)

    def apply(self, text: str) -> str | None:
        n = text.count(self.find)
        if n == 0 or (self.count and n < self.count):
            return None
        return text.replace(self.find, self.replace, self.count or -1)


def family_bugs(cfg: FamilyConfig, text: str) -> list[Bug]:
    """Realistic single-fault mutations that apply to this rendered design (the builder proves they fail)."""
    c = cfg.choices()
    rst, low, is_async = _rst(c)
    bugs: list[Bug] = []
    # a combinational arbiter's grant is unchecked during reset, so a late (synchronous) reset is not a bug there
    comb_arbiter = cfg.family == "arbiter" and c.get("output") == "comb"
    if is_async and not comb_arbiter:
        bugs.append(Bug("async-reset-missing", f"always @({_sens('clk', rst, low, True)})",
                        "always @(posedge clk)",
                        f"the block ignores `{rst}` between clock edges: outputs stay stale after reset is asserted "
                        "until the next rising edge",
                        f"The reset is specified as asynchronous, but `{rst}` is missing from the sensitivity list, "
                        "so the flops only reset on a clock edge (a synchronous reset). Add "
                        f"`{'negedge' if low else 'posedge'} {rst}` to the sensitivity list.", 0))
    pol = f"if ({_active(rst, low)})"
    wrong = f"if ({rst})" if low else f"if (!{rst})"
    if is_async:
        why = (f"`{rst}` is an active-{'low' if low else 'high'} asynchronous reset and the sensitivity list "
               f"triggers on its {'falling' if low else 'rising'} edge, but the `if` tests the opposite level. The "
               "block then no longer describes a flip-flop with an asynchronous reset (synthesis cannot map it, and "
               f"in simulation the logic is held in reset whenever `{rst}` is deasserted). Test "
               f"`{_active(rst, low)}` so the edge in the sensitivity list and the tested level agree.")
    else:
        why = (f"`{rst}` is active-{'low' if low else 'high'}, but the code tests the opposite level, so the logic "
               f"is held in reset whenever `{rst}` is deasserted and runs only while it is asserted. Test "
               f"`{_active(rst, low)}` instead.")
    bugs.append(Bug("reset-polarity", pol, wrong,
                    "the design sits in reset during normal operation and only runs while reset is asserted",
                    why, 0))
    if cfg.family == "register":
        if c["kind"] == "shift" and cfg.pdict["WIDTH"] > 1:
            bugs.append(Bug("shift-direction", "{q[WIDTH-2:0], din}", "{din, q[WIDTH-1:1]}",
                            "serial data appears at the wrong end of `q`",
                            "The register must shift left with `din` entering at bit 0 (`{q[WIDTH-2:0], din}`); the "
                            "code shifts right and inserts `din` at the MSB."))
        if c["enable"] == "en":
            bugs.append(Bug("enable-ignored", " if (en) begin", " begin",
                            "`q` keeps updating while `en` is 0",
                            "The enable is never tested, so the register loads on every clock edge. Qualify the "
                            "update with `en` so `q` holds when `en` is 0."))
            bugs.append(Bug("enable-ignored", "en ? ", "1'b1 ? ",
                            "`q` keeps updating while `en` is 0",
                            "The next-state mux selects the new value unconditionally, so `en` has no effect. Use "
                            "`en` as the select so `q` holds when `en` is 0."))
    elif cfg.family == "counter":
        if c["overflow"] == "sat":
            bugs.append(Bug("saturation-missing", "(count == MAX_COUNT) ? count : count + 1'b1", "count + 1'b1",
                            "counting up past the maximum wraps to 0 instead of holding",
                            "The up step does not check for the maximum value, so the counter wraps. Hold `count` "
                            "when it already equals `MAX_COUNT`."))
        if c["overflow"] == "mod":
            bugs.append(Bug("modulo-off-by-one", "(count == LAST) ? {WIDTH{1'b0}} : count + 1'b1",
                            "(count == MODULO[WIDTH-1:0]) ? {WIDTH{1'b0}} : count + 1'b1",
                            "the counter reaches MODULO before wrapping (one state too many)",
                            "The wrap test compares against MODULO instead of MODULO-1, so the value MODULO is "
                            "visited and the period is MODULO+1. Compare against `LAST` (MODULO-1)."))
        if c["load"] == "load" and c["enable"] == "en" and cfg.style == "a":
            bugs.append(Bug("load-needs-enable", "end else if (load) begin", "end else if (load && en) begin",
                            "a load is lost when `en` is 0",
                            "The spec gives load priority over counting whether or not `en` is 1; gating the load "
                            "with `en` drops loads while the counter is disabled. Test `load` on its own."))
        if c["direction"] == "updown":
            bugs.append(Bug("direction-swapped", "up ? count_up : count_down", "up ? count_down : count_up",
                            "the counter counts the wrong way (down when `up` is 1)",
                            "The direction mux is inverted: `up`=1 must select the incremented value."))
    elif cfg.family == "fifo":
        bugs.append(Bug("write-when-full", "wire             wr_fire = wr_en && !full;",
                        "wire             wr_fire = wr_en;",
                        "data is overwritten and the FIFO reports empty after a write into a full FIFO",
                        "Writes are not blocked while `full` is 1, so the write pointer advances past the read "
                        "pointer: the oldest unread word is overwritten and the pointers alias to 'empty'. Qualify "
                        "the write with `!full`."))
        bugs.append(Bug("read-when-empty", "wire             rd_fire = rd_en && !empty;",
                        "wire             rd_fire = rd_en;",
                        "after a read from an empty FIFO the flags and data go wrong (underflow)",
                        "Reads are not blocked while `empty` is 1, so the read pointer moves ahead of the write "
                        "pointer and the FIFO reports a nearly full queue of garbage. Qualify the read with "
                        "`!empty`."))
        if cfg.style == "a":
            bugs.append(Bug("full-no-wrap-bit", "assign full  = (wr_ptr == {~rd_ptr[AW], rd_ptr[AW-1:0]});",
                            "assign full  = (wr_ptr[AW-1:0] == rd_ptr[AW-1:0]);",
                            "`full` is asserted while the FIFO is empty, and writes into an empty FIFO are refused",
                            "Without the extra wrap bit, equal address bits mean either full or empty. `full` must "
                            "also require the wrap bits to differ: compare against `{~rd_ptr[AW], rd_ptr[AW-1:0]}`."))
        if c["almost"] == "almost":
            bugs.append(Bug("almost-full-strict", "(level >= AFULL[AW:0])", "(level > AFULL[AW:0])",
                            "`almost_full` asserts one word late",
                            "The threshold is inclusive (count >= AFULL); `>` asserts the flag one word too late."))
        if c["read"] == "reg":
            bugs.append(Bug("read-unqualified", "        if (rd_fire)\n            rd_data <=",
                            "        if (rd_en)\n            rd_data <=",
                            "`rd_data` changes when reading an empty FIFO",
                            "The output register loads on `rd_en` even when the FIFO is empty, so it is overwritten "
                            "by a stale RAM word. Load it only on an accepted read (`rd_fire`)."))
    elif cfg.family == "arbiter":
        if c["policy"] == "rr":
            bugs.append(Bug("pointer-not-advanced", "ptr <= (grant_idx == LAST_IDX) ? {PW{1'b0}} : grant_idx + 1'b1;",
                            "ptr <= grant_idx;",
                            "a requester that keeps requesting starves the others",
                            "After a grant the pointer must move one past the granted requester so it gets the "
                            "lowest priority next; leaving the pointer on the winner lets it win again forever."))
        else:
            if cfg.style == "a":
                bugs.append(Bug("lowest-bit-isolation", "req & (~req + {{(N-1){1'b0}}, 1'b1})",
                                "req & ~(req + {{(N-1){1'b0}}, 1'b1})",
                                "requests are often not granted at all",
                                "The lowest set bit is isolated with the two's complement, `req & (~req + 1)` "
                                "(that is `req & -req`). `~(req + 1)` is a different value: for req = 0110 it "
                                "gives 1000, so the AND is zero and nobody is granted. Negate first, then add one."))
            else:
                bugs.append(Bug("priority-reversed", "for (k = N - 1; k >= 0; k = k - 1) begin",
                                "for (k = 0; k < N; k = k + 1) begin",
                                "with several requests, the highest index wins instead of req[0]",
                                "The loop keeps the last match, so it must scan from the highest index down to 0 for "
                                "the lowest index to win; scanning upwards gives the highest index priority."))
    elif cfg.family == "async_fifo":
        bugs.append(Bug("full-compare", "{~rptr_gray_w2[AW:AW-1], rptr_gray_w2[AW-2:0]}", "rptr_gray_w2",
                        "`wfull` rises when the FIFO is empty instead of when it holds DEPTH words",
                        "In Gray code, 'full' is the read pointer with its two MSBs inverted (one lap ahead). "
                        "Comparing for equality detects the empty condition, so the write side blocks immediately "
                        "and never sees a real full."))
        bugs.append(Bug("read-when-empty", "rbin + {{AW{1'b0}}, (rd_en & ~rempty)}", "rbin + {{AW{1'b0}}, rd_en}",
                        "reading an empty FIFO returns garbage and corrupts the order",
                        "The read pointer advances on `rd_en` even while `rempty` is 1, so it passes the write "
                        "pointer (underflow). Qualify the increment with `~rempty`."))
    elif cfg.family == "axi_lite":
        bugs = [b for b in bugs if b.name != "reset-polarity"]
        bugs.append(Bug("strobe-ignored", "                        if (wr_strb[b])\n", "",
                        "partial writes overwrite the whole register",
                        "The byte-lane loop writes every byte regardless of WSTRB, so a write with some strobes low "
                        "clobbers bytes the master meant to keep. Write byte lane b only when `wr_strb[b]` is 1."))
        bugs.append(Bug("slverr-missing", "s_axi_bresp  <= wr_ok ? RESP_OKAY : RESP_SLVERR;",
                        "s_axi_bresp  <= RESP_OKAY;",
                        "writes to unmapped addresses report OKAY",
                        "The write response is always OKAY. Out-of-range writes must complete with SLVERR (2'b10) "
                        "so the master can detect the bad access; select the response with `wr_ok`."))
        bugs.append(Bug("rvalid-not-held", "        end else if (s_axi_rvalid && s_axi_rready) begin\n            s_axi_rvalid <= 1'b0;",
                        "        end else begin\n            s_axi_rvalid <= 1'b0;",
                        "read data is lost when the master applies back-pressure on R",
                        "RVALID is cleared one cycle after it rises even if RREADY is low. AXI requires RVALID (and "
                        "RDATA/RRESP) to be held until the handshake: clear it only when `s_axi_rvalid && s_axi_rready`."))
    return [b for b in bugs if b.apply(text) is not None and b.apply(text) != text]
