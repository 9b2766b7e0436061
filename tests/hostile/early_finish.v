// expect: unsafe line=4
module top(input clk, input a, output reg y);
  always @(posedge clk) y <= a;
  initial #1 $finish;
endmodule
