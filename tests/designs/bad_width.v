// expect: width line=4
module counter(input clk, input rst_n, input en, output reg [3:0] q, output [3:0] next);
  wire [7:0] sum;
  assign next = sum;
  assign sum = {4'd0, q} + 8'd1;
  always @(posedge clk or negedge rst_n)
    if (!rst_n) q <= 4'd0;
    else if (en) q <= next;
endmodule
