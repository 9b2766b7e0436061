// expect: unsafe line=3
module top(input clk, input [29:0] addr, input [7:0] d, output reg [7:0] q);
  reg [7:0] mem [0:(1<<30)-1];
  always @(posedge clk) begin mem[addr] <= d; q <= mem[addr]; end
endmodule
