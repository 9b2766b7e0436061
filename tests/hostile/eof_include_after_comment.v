// expect: unsafe line=5
module top(input clk, input a, output y);
  assign y = a;
endmodule
`include "/etc/hostname" // endmodule
