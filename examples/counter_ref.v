// Reference model for examples/counter.v: same interface, written independently.
module counter(input clk, input rst_n, input en, output reg [3:0] q);
  always @(posedge clk or negedge rst_n) begin
    if (rst_n == 1'b0)
      q <= 4'b0000;
    else if (en == 1'b1)
      q <= q + 4'b0001;
  end
endmodule
