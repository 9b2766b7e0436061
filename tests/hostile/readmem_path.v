// expect: unsafe line=4
module top(input [3:0] addr, output [7:0] data);
  reg [7:0] rom [0:15];
  initial $readmemh("/etc/hostname", rom);
  assign data = rom[addr];
endmodule
