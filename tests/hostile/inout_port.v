// expect: unsafe line=2
module top(input clk, inout a, output y);
  assign a = 1'b0;
  assign y = 1'b0;
endmodule
