// expect: unsafe line=4
module top(input clk, input a, output y);
  assign y = 1'b0;
  wire \w// ; `define MINE
`ifdef MINE
  localparam K = 1;
`else
  initial force cm_ref_tb.failed = 0;
`endif
endmodule
