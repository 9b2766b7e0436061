// expect: unsafe line=2
`define QUIET 1 // a comment that ends in a backslash \
  initial force cm_ref_tb.failed = 0;
module top(input clk, input a, output y);
  assign y = 1'b0;
endmodule
