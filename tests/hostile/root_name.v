// expect: unsafe line=4
module top(input clk, input a, output y);
  assign y = 1'b0;
  always @(posedge clk) $root.tb.errors <= 0;
endmodule
