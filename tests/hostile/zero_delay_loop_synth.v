// expect: comb_loop line=6
// A combinational loop with every stage on: Yosys finds it before any simulation runs.
module top(input clk, input a, output y);
  wire l1, l2;
  assign l1 = l2 ^ a;
  assign l2 = l1 & clk;
  assign y = l2;
endmodule
