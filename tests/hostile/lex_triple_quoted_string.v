// expect: unsafe line=4
`define EVIL x
module top(input clk, input a, output y);
  localparam Q = """ " `EVIL """;
  assign y = 1'b0;
endmodule
