// expect: unsafe line=5
`define MINE
module top(input clk, input a, output y);
`ifndef MINE
  localparam S = " `endif ";
  initial force cm_ref_tb.failed = 0;
`endif
  assign y = 1'b0;
endmodule
