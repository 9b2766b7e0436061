// expect: unsafe line=6
module top #(parameter N = 1) (input clk, input a, output y);
  assign y = 1'b0;
  // Dead with the default N, so pyslang never elaborates it; live under a bench that sets N, where the
  // simulator resolves the call upward into the testbench.
  if (N != 1) begin : g initial check; end
endmodule
