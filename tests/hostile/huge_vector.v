// expect: unsafe line=2
module top(input clk, output reg [(1<<20)-1:0] y);
  always @(posedge clk) y <= ~y;
endmodule
