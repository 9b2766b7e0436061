// expect: unsafe line=4
module top(input clk, input a, output reg y);
  initial begin
    $display("Mismatches: 0 in 1 samples");
  end
  always @(posedge clk) y <= 1'b0;
endmodule
