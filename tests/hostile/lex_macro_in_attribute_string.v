// expect: unsafe line=4
`define EVIL " *) initial force cm_ref_tb.failed = 0; (* k = "
module top(input clk, input a, output y);
  (* note = "`EVIL" *) wire w;
  assign y = 1'b0;
endmodule
