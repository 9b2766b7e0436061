// expect: multidriver line=3
module counter(input clk, input rst_n, input en, output reg [3:0] q);
  always @(posedge clk) if (!rst_n) q <= 4'd0;
  always @(posedge clk) if (en) q <= q + 4'd1;
endmodule
