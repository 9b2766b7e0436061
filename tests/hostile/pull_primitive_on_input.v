// expect: unsafe line=4
module top(input clk, input a, output y);
  assign y = 1'b0;
  pulldown (supply0) pd(a);
endmodule
