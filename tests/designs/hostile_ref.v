// Reference for the hostile corpus: the interface every hostile design uses (clk, a -> y).
module top(input clk, input a, output reg y);
  always @(posedge clk) y <= a;
endmodule
