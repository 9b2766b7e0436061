// expect: interface line=2
module \top=1 (input clk, input a, output y);
  assign y = 1'b0;
endmodule
