// expect: timeout stages=extract,screen,parse,simulate
// A zero-delay loop: the process re-triggers at the same time step forever.
module top(input clk, input a, output y);
  reg osc = 1'b0;
  always #0 osc = ~osc;
  assign y = a ^ osc;
endmodule
