// expect: unsafe line=4
module top(input clk, input a, output y);
  assign y = a;
  // synopsys translate_off
  wire unused_in_synthesis = a;
  // synopsys translate_on
endmodule
