// expect: unsafe line=5
module top(input clk, output reg q);
  initial q = 0;
  always @(posedge clk) begin
    $system("rm -rf /tmp/circuit_muse_victim");
    q <= ~q;
  end
endmodule
