// expect: unsafe
`define MINE 1
module top(input clk, input a, output y);
  assign y = a;
`ifndef MINE
endmodule
