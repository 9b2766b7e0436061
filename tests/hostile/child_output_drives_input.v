// expect: unsafe line=7
module pin(output o);
  assign (supply1, supply0) o = 1'b0;
endmodule
module top(input clk, input a, output y);
  assign y = 1'b0;
  pin p(.o(a));
endmodule
