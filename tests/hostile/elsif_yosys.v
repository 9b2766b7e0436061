// expect: unsafe line=4
`define MINE 1
module top(input clk, input a, output y);
`ifdef UNDEFINED_HERE
  assign y = a;
`elsif YOSYS
  assign y = 1'b0;
`else
  assign y = a;
`endif
endmodule
