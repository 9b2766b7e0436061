// expect: latch line=4
module mux(input [1:0] s, input a, input b, output reg y);
  always @*
    case (s)
      2'd0: y = a;
      2'd1: y = b;
    endcase
endmodule
