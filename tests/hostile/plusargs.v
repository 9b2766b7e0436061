// expect: unsafe line=4
module top(input clk, output reg [31:0] y);
  integer v;
  initial if ($value$plusargs("nonce=%d", v)) y = v;
endmodule
