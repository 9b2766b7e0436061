// expect: unsafe line=5
module top(input clk, input a, output reg y);
  initial begin
    assign y = 1'b0;
    deassign y;
  end
endmodule
