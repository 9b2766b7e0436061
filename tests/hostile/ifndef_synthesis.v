// expect: unsafe line=3
module top(input clk, input a, output y);
`ifndef SYNTHESIS
  assign y = a;
`else
  assign y = 1'b0;
`endif
endmodule
