// expect: unsafe line=3
module top(input clk, input a, output y);
  wire \q" ; `include "/etc/hostname"
  assign y = 1'b0;
endmodule
