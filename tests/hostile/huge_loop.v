// expect: unsafe line=5
module top(input clk, output reg [31:0] y);
  integer i;
  always @(posedge clk)
    for (i = 0; i < 2000000000; i = i + 1) y <= y + 1;
endmodule
