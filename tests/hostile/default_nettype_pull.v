// expect: unsafe line=2
`default_nettype tri1
module top(input clk, input a, output y);
  assign y = a;
endmodule
