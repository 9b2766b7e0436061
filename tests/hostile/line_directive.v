// expect: unsafe line=2
`line 1 "/etc/passwd" 0
module top(input clk, input a, output y);
  assign y = a;
endmodule
