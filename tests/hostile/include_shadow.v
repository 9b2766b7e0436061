// expect: unsafe line=2
`include "/etc/shadow"
module top(input a, output y);
  assign y = a;
endmodule
