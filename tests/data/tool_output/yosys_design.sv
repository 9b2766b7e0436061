module top(input clk, input [1:0] s, input a, b, output reg y, output reg q, output w, output u, output [3:0] cnt);
  always @* case (s) 2'd0: y = a; 2'd1: y = b; endcase
  always @(posedge clk) q <= a;
  always @(posedge clk) q <= b;
  wire l1, l2;
  assign l1 = l2 ^ a;
  assign l2 = l1 & b;
  assign w = l2;
  reg [3:0] c;
  always @(posedge clk) c <= c + 1'b1;
  assign cnt = c;
endmodule
