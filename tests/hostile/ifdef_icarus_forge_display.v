// expect: unsafe line=3
module top(input clk, input a, output y);
`ifdef __ICARUS__
  integer fd, c;
  initial begin
    fd = $fopen("cm_prebuilt.vvp", "r");   // read the nonce out of the compiled image
    c = $fgetc(fd);
    $display("CM_RESULT pass=1000 fail=0");
    $finish;
  end
`endif
  assign y = 1'b0;
endmodule
