// expect: unsafe line=2
`define VERILATOR 1
module top(input clk, input a, output y);
  assign y = a;
endmodule
