"""Small benchmark suites in the VerilogEval (v1, v2) and RTLLM v2 layouts, written by the tests.

These are our own tiny problems in those formats (nothing is copied from the real benchmarks): enough
to exercise every reader, the testbench conventions (VerilogEval's `Mismatches:` line, RTLLM's printed
pass string, data files, a module renamed between reference and bench) and the integrity rules.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Design:
    name: str
    ports: list[tuple[str, str, int]]    # (name, "input"/"output", width)
    body: str                            # module body of the reference
    spec: str
    sequential: bool = False
    compared: tuple[str, ...] | None = None  # outputs the bench compares (default all)
    ends_on: str | None = None           # an output that, when 1, makes the bench $finish (a trusted bench)


DESIGNS = [
    Design("ProbX01_and3", [("a", "input", 1), ("b", "input", 1), ("c", "input", 1), ("y", "output", 1)],
           "  assign y = a & b & c;", "The output y is the AND of the three inputs a, b and c."),
    Design("ProbX02_swap", [("in", "input", 8), ("out", "output", 8)],
           "  assign out = {in[3:0], in[7:4]};", "Swap the two nibbles of the 8-bit input."),
    Design("ProbX03_count", [("clk", "input", 1), ("reset", "input", 1), ("q", "output", 4)],
           "  reg [3:0] r;\n  always @(posedge clk) r <= reset ? 4'd0 : r + 4'd1;\n  assign q = r;",
           "A 4-bit counter that counts up every clock and goes to 0 on a synchronous active-high reset.",
           sequential=True),
    Design("ProbX04_latch", [("en", "input", 1), ("d", "input", 1), ("q", "output", 1)],
           "  reg r;\n  always @* if (en) r = d;\n  assign q = r;",
           "A level-sensitive latch: q follows d while en is 1 and holds otherwise."),
]
# A bench that ends when the design raises `done`: used to show a pass needs the reference's sample count.
EARLY_END = Design("ProbX05_stopper", [("a", "input", 1), ("b", "input", 1), ("y", "output", 1), ("done", "output", 1)],
                   "  assign y = a ^ b;\n  assign done = 1'b0;",
                   "y is a XOR b; done stays 0.", compared=("y",), ends_on="done")


def _decl(ports: list[tuple[str, str, int]]) -> str:
    return ",\n".join(f"  {d} {f'[{w - 1}:0] ' if w > 1 else ''}{n}" for n, d, w in ports)


def module(name: str, d: Design, body: str | None = None) -> str:
    return f"module {name} (\n{_decl(d.ports)}\n);\n{body if body is not None else d.body}\nendmodule\n"


def ve_bench(d: Design, *, ref_name: str = "RefModule", dut_name: str = "TopModule", samples: int = 60) -> str:
    ins = [(n, w) for n, dd, w in d.ports if dd == "input" and n != "clk"]
    outs = [(n, w) for n, dd, w in d.ports if dd == "output"]
    compared = [o for o in outs if d.compared is None or o[0] in d.compared]
    rng = lambda w: f"[{w - 1}:0] " if w > 1 else ""  # noqa: E731
    stim_ports = ",\n".join([" input clk"] + [f" output logic {rng(w)}{n}" for n, w in ins])
    drive = " ".join(f"{n} <= ({'$random & 1' if n == 'reset' else '$random'});" for n, _ in ins)
    zero = " ".join(f"{n} <= 0;" for n, _ in ins)
    conns = ", ".join([".clk(clk)"] * d.sequential + [f".{n}({n})" for n, _ in ins])
    ref_conns = ", ".join([conns] + [f".{n}({n}_ref)" for n, _ in outs])
    dut_conns = ", ".join([conns] + [f".{n}({n}_dut)" for n, _ in outs])
    vref = ", ".join(f"{n}_ref" for n, _ in compared)
    vdut = ", ".join(f"{n}_dut" for n, _ in compared)
    decls = "".join(f"  logic {rng(w)}{n};\n" for n, w in ins) + "".join(
        f"  logic {rng(w)}{n}_ref;\n  logic {rng(w)}{n}_dut;\n" for n, w in outs)
    ends = f"  always @(posedge clk) if ({d.ends_on}_dut === 1'b1) $finish;\n" if d.ends_on else ""
    return f"""`timescale 1 ps/1 ps
module stimulus_gen (
{stim_ports}
);
  initial begin
    {zero}
    @(negedge clk);
    repeat({samples}) @(posedge clk, negedge clk) begin {drive} end
    $finish;
  end
endmodule

module tb();
  typedef struct packed {{ int errors; int errortime; int clocks; }} stats;
  stats stats1;
  reg clk = 0;
  initial forever #5 clk = ~clk;
{decls}
  stimulus_gen stim1 (.clk(clk){''.join(f', .{n}({n})' for n, _ in ins)});
  {ref_name} good1 ({ref_conns});
  {dut_name} top_module1 ({dut_conns});
  wire tb_match = ({{ {vref} }} === ({{ {vref} }} ^ {{ {vdut} }} ^ {{ {vref} }}));
  always @(posedge clk, negedge clk) begin
    stats1.clocks++;
    if (!tb_match) begin
      if (stats1.errors == 0) stats1.errortime = $time;
      stats1.errors++;
    end
  end
{ends}  final begin
    $display("Hint: Total mismatched samples is %1d out of %1d samples", stats1.errors, stats1.clocks);
    $display("Mismatches: %1d in %1d samples", stats1.errors, stats1.clocks);
  end
  initial begin
    #1000000 $display("TIMEOUT");
    $finish();
  end
endmodule
"""


def ve_prompt(d: Design) -> str:
    lines = [f" - {dd:<6} {n}" + (f" ({w} bits)" if w > 1 else "") for n, dd, w in d.ports]
    return ("I would like you to implement a module named TopModule with the following\ninterface. All input and "
            "output ports are one bit unless otherwise\nspecified.\n\n" + "\n".join(lines) + f"\n\n{d.spec}\n")


def write_verilog_eval_v2(root: Path, designs: list[Design] | None = None, *, task: str = "spec-to-rtl") -> Path:
    """A v2 clone root with dataset_<task>/ holding ProbNNN_{prompt.txt,ref.sv,test.sv} (+ _ifc.txt)."""
    designs = designs or DESIGNS
    folder = root / f"dataset_{task}"
    folder.mkdir(parents=True, exist_ok=True)
    for d in designs:
        header = f"module TopModule (\n{_decl(d.ports)}\n);\n"
        prompt = ve_prompt(d) if task == "spec-to-rtl" else f"{d.spec}\n\n{header}"
        (folder / f"{d.name}_prompt.txt").write_text(prompt)
        (folder / f"{d.name}_ref.sv").write_text(module("RefModule", d))
        (folder / f"{d.name}_test.sv").write_text(ve_bench(d))
        if task != "spec-to-rtl":
            (folder / f"{d.name}_ifc.txt").write_text(header)
    (folder / "problems.txt").write_text("".join(d.name + "\n" for d in designs))
    return root


def write_verilog_eval_v1(root: Path, designs: list[Design] | None = None, *, which: str = "Human") -> Path:
    """data/VerilogEval_<which>.jsonl (+ descriptions/VerilogDescription_<which>.jsonl), v1 style."""
    designs = designs or DESIGNS
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "descriptions").mkdir(parents=True, exist_ok=True)
    rows, descs = [], []
    for d in designs:
        tid = d.name.split("_", 1)[1]
        header = f"module top_module (\n{_decl(d.ports)}\n);\n"
        test = module("reference_module", d) + "\n" + ve_bench(d, ref_name="reference_module", dut_name="top_module")
        rows.append({"task_id": tid, "prompt": header, "canonical_solution": d.body + "\nendmodule\n", "test": test})
        descs.append({"task_id": tid, "detail_description": d.spec})
    path = root / "data" / f"VerilogEval_{which}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "descriptions" / f"VerilogDescription_{which}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in descs))
    return path


RTLLM_ADDER_TB = """`timescale 1ns / 1ps
module testbench;
  reg [3:0] a, b;
  wire [4:0] sum;
  integer i;
  integer error = 0;
  adder_4bit uut (.a(a), .b(b), .sum(sum));
  initial begin
    for (i = 0; i < 40; i = i + 1) begin
      a = $random; b = $random;
      #10;
      error = (sum !== a + b) ? error + 1 : error;
    end
    if (error == 0) begin
      $display("===========Your Design Passed===========");
    end
    else begin
      $display("===========Test completed with %d /40 failures===========", error);
    end
  end
endmodule
"""
RTLLM_ROM_TB = """`timescale 1ns / 1ps
module rom_tb;
  reg [3:0] addr;
  wire [7:0] data;
  reg [7:0] expected [0:15];
  integer i, error = 0;
  rom_table uut (.addr(addr), .data(data));
  initial begin
    $readmemh("expected.txt", expected);
    for (i = 0; i < 16; i = i + 1) begin
      addr = i; #5;
      if (data != expected[i]) error = error + 1;
    end
    if (error == 0) $display("=========== Your Design Passed ===========");
    else $display("=========== Test completed with %d failures ===========", error);
    $finish;
  end
endmodule
"""
RTLLM_MULT_TB = """`timescale 1ns / 1ps
module tb_mult;
  reg clk = 0, rst_n = 0;
  reg [1:0] a, b;
  wire [3:0] p;
  integer i, error = 0;
  always #5 clk = ~clk;
  mult_pipe_2bit dut (.clk(clk), .rst_n(rst_n), .a(a), .b(b), .p(p));
  initial begin
    a = 0; b = 0;
    #12 rst_n = 1;
    for (i = 0; i < 30; i = i + 1) begin
      @(negedge clk) begin a = $random; b = $random; end
      @(negedge clk);
      if (p != a * b) begin error = error + 1; $display("Error: a=%d b=%d p=%d", a, b, p); end
    end
    if (error == 0) $display("===========Your Design Passed===========");
    else $display("===========Test completed with %d failures===========", error);
    $finish;
  end
endmodule
"""
RTLLM = {
    "Arithmetic/Adder/adder_4bit": ("adder_4bit", "adder_4bit", RTLLM_ADDER_TB,
                                    "module verified_adder_4bit (input [3:0] a, input [3:0] b, output [4:0] sum);\n"
                                    "  assign sum = a + b;\nendmodule\n", {},
                                    "Implement a 4-bit adder.\n\nModule name:\n    adder_4bit\nInput ports:\n    a[3:0], "
                                    "b[3:0]\nOutput ports:\n    sum[4:0]: a + b.\n"),
    "Memory/ROM/rom_table": ("rom_table", "rom_table", RTLLM_ROM_TB,
                             "module verified_rom_table (input [3:0] addr, output [7:0] data);\n"
                             "  assign data = {addr, 4'h0} + addr;\nendmodule\n",
                             {"expected.txt": "".join(f"{(i << 4) + i:02x}\n" for i in range(16))},
                             "A 16-entry ROM: data is 17 times addr.\n\nModule name:\n    rom_table\n"),
    # The reference module is named verified_mult, the bench instantiates mult_pipe_2bit (as in RTLLM's
    # adder_pipe_64bit and multi_pipe_4bit).
    "Arithmetic/Multiplier/mult_pipe_2bit": ("mult_pipe_2bit", "mult", RTLLM_MULT_TB,
                                             "module verified_mult (input clk, input rst_n, input [1:0] a, input [1:0] b,"
                                             " output reg [3:0] p);\n  always @(posedge clk or negedge rst_n)\n"
                                             "    if (!rst_n) p <= 0; else p <= a * b;\nendmodule\n", {},
                                             "A registered 2-bit multiplier.\n\nModule name:\n    mult_pipe_2bit\n"),
}


def write_rtllm(root: Path) -> Path:
    for rel, (_top, file_stem, bench, ref, data, desc) in RTLLM.items():
        folder = root / rel
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "testbench.v").write_text(bench)
        (folder / f"verified_{file_stem}.v").write_text(ref)
        (folder / "design_description.txt").write_text(desc)
        (folder / "makefile").write_text("vcs:\n\tvcs -sverilog testbench.v\n")
        for name, text in data.items():
            (folder / name).write_text(text)
    return root
