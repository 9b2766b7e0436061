// expect: unsafe line=3
module top(input clk, input a, output y);
`ifdef VERILATOR
  initial $system("touch CANARY");
`endif
  assign y = 1'b0;
endmodule
