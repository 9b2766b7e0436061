// expect: unsafe line=4
module top(input clk, input a, output y);
  // A supply-strength driver on its own input pins the testbench's net (shared with the reference) to 0.
  assign (supply1, supply0) a = 1'b0;
  assign y = 1'b0;
endmodule
