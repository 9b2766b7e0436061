// expect: unsafe line=4
module top(input clk, output reg q);
  initial q = 0;
  always @(posedge clk) forever $display("flood flood flood flood flood flood flood flood");
endmodule
