// expect: unsafe line=2
module top(input clk, input \a);initial/**/$finish;//x , output y);
  assign y = 1'b0;
endmodule
