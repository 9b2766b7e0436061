// A design that uses the preprocessor the allowed way: its own macros, its own conditionals.
`timescale 1ns/1ps
`define WIDTH 4
`define NEXT(v) ((v) + 1'b1)
`define USE_ENABLE
`ifdef USE_ENABLE
  `define GATE(en, x) ((en) ? (x) : q)
`else
  `define GATE(en, x) (x)
`endif
module counter(input clk, input rst_n, input en, output reg [`WIDTH-1:0] q);
`ifndef USE_ENABLE
  initial q = 0;
`endif
  always @(posedge clk)
    if (!rst_n) q <= {`WIDTH{1'b0}};
    else q <= `GATE(en, `NEXT(q));
endmodule
`undef GATE
