// expect: unsafe line=5
module top(input clk, input a, output y);
  assign y = a;
  // Icarus compiles an escaped $name as the system task; the screen saw a user identifier.
  initial \$display ("Mismatches: 0 in 1 samples");
endmodule
