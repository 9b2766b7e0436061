// expect: unsafe line=6
module spy(input logic x);
endmodule
module top(input logic clk, input logic a, output logic y);
  assign y = 1'b0;
  bind top spy u_spy(.x(clk));
endmodule
