// expect: unsafe line=5
module top(input clk, output reg [7:0] q);
  integer fd;
  initial begin
    fd = $fopen("/etc/passwd", "r");
    q = $fgetc(fd);
  end
endmodule
