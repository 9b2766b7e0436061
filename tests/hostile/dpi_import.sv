// expect: unsafe line=3
module top(input clk, output int y);
  import "DPI-C" function int getpid();
  always @(posedge clk) y <= getpid();
endmodule
