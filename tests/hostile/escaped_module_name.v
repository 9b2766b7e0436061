// expect: unsafe line=2
module \initial/**/force/**/failed=0;sub (input clk, input a, output y);
  assign y = 1'b0;
endmodule
