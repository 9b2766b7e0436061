// expect: interface line=2
module counter(input clk, input reset, input en, output reg [3:0] count);
  always @(posedge clk)
    if (reset) count <= 4'd0;
    else if (en) count <= count + 4'd1;
endmodule
