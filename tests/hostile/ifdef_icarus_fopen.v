// expect: unsafe line=3
module top(input clk, input a, output y);
`ifdef __ICARUS__
  integer fd;
  initial begin fd = $fopen("CANARY", "w"); $fwrite(fd, "owned"); $fclose(fd); end
`endif
  assign y = 1'b0;
endmodule
