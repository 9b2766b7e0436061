// expect: unsafe line=4
module top(input clk, input a, output reg y);
  always @(*)
    (* full_case, parallel_case *)
    case (a)
      1'b1: y = 1'b1;
    endcase
endmodule
