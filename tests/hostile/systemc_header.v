// expect: unsafe line=2
`systemc_imp_header
#include <cstdlib>
static int cm_owned = std::system("touch CANARY");
`verilog
module top(input clk, input a, output y);
  assign y = 1'b0;
endmodule
