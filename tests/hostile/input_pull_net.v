// expect: unsafe line=2
module top(input clk, input tri0 a, output y);
  assign y = a;
endmodule
