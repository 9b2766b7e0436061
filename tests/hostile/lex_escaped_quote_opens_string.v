// expect: unsafe line=5
`define EVIL "; initial force cm_ref_tb.failed = 0; localparam Q = "
module top(input clk, input a, output y);
  assign y = 1'b0;
  wire \q" ; localparam P = " `EVIL ";
endmodule
