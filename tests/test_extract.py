from __future__ import annotations

from circuit_muse.engine.extract import extract_verilog


def test_fenced_block_with_prose_is_extracted_and_raw_kept() -> None:
    raw = "Sure, here it is:\n```verilog\nmodule a(input x, output y);\n  assign y = x;\nendmodule\n```\nThis works."
    ext = extract_verilog(raw)
    assert ext.source.startswith("module a(")
    assert "This works" not in ext.source and "Sure" not in ext.source
    assert ext.modules == ["a"]


def test_several_fenced_modules_are_joined_in_order() -> None:
    raw = "```verilog\nmodule a(input x, output y); assign y = x; endmodule\n```\ntext\n" \
          "```systemverilog\nmodule b(input x, output y); a u(.x(x), .y(y)); endmodule\n```"
    assert extract_verilog(raw).modules == ["a", "b"]


def test_missing_endmodule_is_added_per_module() -> None:
    ext = extract_verilog("module a; wire x;\nmodule b; endmodule\n")
    assert ext.source.count("endmodule") == 2
    assert ext.source.index("endmodule") < ext.source.index("module b")
    assert any("missing endmodule" in n for n in ext.notes)


def test_begin_done_markers() -> None:
    ext = extract_verilog("junk [BEGIN]\nmodule m(input a, output b); assign b = a; endmodule\n[DONE] junk")
    assert ext.modules == ["m"] and "junk" not in ext.source


def test_prose_lines_become_blank_so_line_numbers_match() -> None:
    raw = "Here is my answer\n\nmodule m(input a, output b);\n  assign b = a;\nendmodule\n"
    src = extract_verilog(raw).source
    assert src.splitlines()[3].strip() == "assign b = a;"


def test_directives_above_the_module_are_kept() -> None:
    src = extract_verilog('`include "x.vh"\nmodule m; endmodule\n').source
    assert "`include" in src


def test_no_module_gives_empty_source() -> None:
    ext = extract_verilog("I cannot help with that.")
    assert ext.source == "" and ext.modules == []


PACKAGE_FIRST = """The width and a state type live in a package:

package cfg_pkg;
  localparam int W = 4;
  typedef enum logic [1:0] {
    IDLE,
    RUN
  } state_t;
  function automatic logic [W-1:0] inc(input logic [W-1:0] x);
    return x + 1;
  endfunction
endpackage

interface bus_if;
  logic [3:0] data;
endinterface

class packet;
  int id;
endclass

import cfg_pkg::*;

typedef struct packed {
  logic a;
  logic b;
} pair_t;

module top(input logic clk, output logic [3:0] q);
endmodule
That's it.
"""


def test_package_interface_class_typedef_and_import_before_the_module_are_kept_whole() -> None:
    src = extract_verilog(PACKAGE_FIRST).source
    raw_lines = PACKAGE_FIRST.splitlines()
    first, last = raw_lines.index("package cfg_pkg;"), raw_lines.index("} pair_t;")
    # every code line from the package to the struct survives, at its own line number
    assert src.splitlines()[first:last + 1] == raw_lines[first:last + 1]
    assert "The width" not in src and "That's it" not in src


def test_prose_that_starts_with_a_keyword_is_not_taken_for_a_block() -> None:
    src = extract_verilog("interface between the two blocks is below\nmodule m; endmodule\n").source
    assert src.startswith("\nmodule m;")


def test_a_fenced_package_next_to_a_fenced_module_is_kept() -> None:
    raw = ("Package:\n```systemverilog\npackage p;\n  localparam W = 3;\nendpackage\n```\nModule:\n"
           "```verilog\nmodule m(output [p::W-1:0] y); assign y = 0; endmodule\n```\n")
    src = extract_verilog(raw).source
    assert src.index("package p;") < src.index("module m(") and "endpackage" in src
