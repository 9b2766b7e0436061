// expect: unsafe line=3
module top(input clk, input a, output y);
`ifdef __ICARUS__
  initial forever #1 tb.errors = 0;
`endif
  assign y = 1'b0;
endmodule
