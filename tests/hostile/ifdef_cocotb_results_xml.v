// expect: unsafe line=3
module top(input clk, input a, output reg y);
`ifdef COCOTB_SIM
  integer fd;
  final begin
    fd = $fopen("results.xml", "w");
    $fwrite(fd, "<testsuites><testsuite><testcase name=\"t\"/></testsuite></testsuites>");
    $fclose(fd);
  end
`endif
  always @(posedge clk) y <= 1'b0;
endmodule
