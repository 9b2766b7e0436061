// expect: timeout stages=extract,screen,parse,simulate
// A loop that never ends inside one time step.
module top(input clk, input a, output reg y);
  reg spin;
  initial y = 0;
  always @(posedge clk) begin
    spin = 1'b1;
    while (spin) y = ~y;
  end
endmodule
