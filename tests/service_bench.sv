// A self-checking bench for tests/service_support.GOOD, sent to POST /verify as an uploaded testbench.
`timescale 1ns/1ps
module tb;
  reg clk = 0, rst_n = 0, en = 0;
  wire [3:0] count;
  integer fails = 0, i;
  counter dut(.clk(clk), .rst_n(rst_n), .en(en), .count(count));
  always #5 clk = ~clk;
  initial begin
    #12 rst_n = 1; en = 1;
    for (i = 1; i <= 20; i = i + 1) begin
      @(posedge clk); #1;
      if (count !== i[3:0]) fails = fails + 1;
    end
    $display("CM_RESULT pass=%0d fail=%0d", 20 - fails, fails);
    $finish;
  end
endmodule
